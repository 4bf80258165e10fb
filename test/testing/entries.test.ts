// The runtime doctor's package entries load from ESM and CommonJS: asyncdoctor/testing, and
// asyncdoctor/register (debug mode for the whole program, silent for a clean one).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";

describe("package entries", () => {
  it("asyncdoctor/testing loads through require() and import", () => {
    const cjs = execFileSync(
      process.execPath,
      ["-e", "const t = require('asyncdoctor/testing'); console.log(typeof t.leakCheck, typeof t.setupLeakChecks, typeof t.assertNoLeaks)"],
      { encoding: "utf8" },
    );
    assert.equal(cjs.trim(), "function function function");
    const esm = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", "const t = await import('asyncdoctor/testing'); console.log(typeof t.LeakError)"],
      { encoding: "utf8" },
    );
    assert.equal(esm.trim(), "function");
  });

  it("asyncdoctor/register turns on debug mode from -r (CommonJS) and --import (ESM)", () => {
    for (const flag of ["-r", "--import"]) {
      const r = spawnSync(
        process.execPath,
        [flag, "asyncdoctor/register", "-e", "const { getConfig } = require('asyncdoctor'); console.log(getConfig().mode)"],
        { encoding: "utf8" },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), "debug", `${flag}: also the CommonJS copy is in debug mode`);
      assert.equal(r.stderr, "", "a clean program gets no report");
    }
    const r = spawnSync(
      process.execPath,
      ["--import", "asyncdoctor/register", "--input-type=module", "-e", "const { getConfig } = await import('asyncdoctor'); console.log(getConfig().mode)"],
      { encoding: "utf8" },
    );
    assert.equal(r.stdout.trim(), "debug");
  });
});
