// The built package loads from ESM and from CommonJS, with every public entry.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

describe("package", () => {
  it("loads through require() (CommonJS)", () => {
    const out = execFileSync(process.execPath, ["-e", "const a = require('asyncdoctor'); console.log(typeof a.configure, typeof a.snapshot)"], { encoding: "utf8" });
    assert.equal(out.trim(), "function function");
  });
  it("loads through import (ESM)", () => {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", "const a = await import('asyncdoctor'); console.log(typeof a.configure, typeof a.renderText)"], { encoding: "utf8" });
    assert.equal(out.trim(), "function function");
  });
});
