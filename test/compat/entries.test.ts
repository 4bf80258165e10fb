// The compat entries load from the built package, through require() and import.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

describe("compat entries", () => {
  it("asyncdoctor/compat/async-mutex and asyncdoctor/compat/p-limit load through require()", () => {
    const out = execFileSync(
      process.execPath,
      [
        "-e",
        "const m = require('asyncdoctor/compat/async-mutex'); const p = require('asyncdoctor/compat/p-limit'); console.log(typeof m.Mutex, typeof m.withTimeout, m.E_TIMEOUT instanceof Error, typeof p.default, typeof p.limitFunction)",
      ],
      { encoding: "utf8" },
    );
    assert.equal(out.trim(), "function function true function function");
  });
  it("load through import", () => {
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        "const { Mutex } = await import('asyncdoctor/compat/async-mutex'); const { default: pLimit } = await import('asyncdoctor/compat/p-limit'); const l = pLimit(1); console.log(await new Mutex().runExclusive(() => 1) + await l(() => 2))",
      ],
      { encoding: "utf8" },
    );
    assert.equal(out.trim(), "3");
  });
});
