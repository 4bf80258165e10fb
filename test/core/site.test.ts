import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { captureSite, formatSite, LazySite, sourceLine, isInternalFile } from "../../src/core/site.js";

const here = fileURLToPath(import.meta.url);

describe("call sites", () => {
  it("captures the caller's file and line, skipping asyncdoctor's own frames", () => {
    const [site, line] = [captureSite(), 10]; // one statement, so the expected line stays this line
    assert.ok(site);
    assert.equal(site.file, here);
    assert.equal(site.line, line);
    assert.equal(sourceLine(site), "const [site, line] = [captureSite(), 10]; // one statement, so the expected line stays this line");
    assert.match(formatSite(site), /test\/core\/site\.test\.ts:10:\d+$/);
  });
  it("resolves a lazy site only when read", () => {
    function make() {
      return new LazySite(make);
    }
    const [lazy, line] = [make(), 21];
    assert.equal(lazy.site?.line, line);
    assert.equal(lazy.site?.file, here);
  });
  it("treats node internals as internal and user files as not", () => {
    assert.equal(isInternalFile("node:internal/timers"), true);
    assert.equal(isInternalFile(here), false);
    assert.equal(formatSite(undefined), "<unknown site>");
  });
});
