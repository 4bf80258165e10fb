// The built package, by its own name: loads from ESM and from CommonJS, and both builds in one
// process share one state.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

describe("package", () => {
  it("loads through require() (CommonJS)", () => {
    const out = execFileSync(process.execPath, ["-e", "const a = require('asyncdoctor'); console.log(typeof a.configure, typeof a.snapshot)"], {
      encoding: "utf8",
    });
    assert.equal(out.trim(), "function function");
  });
  it("loads through import (ESM)", () => {
    const out = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", "const a = await import('asyncdoctor'); console.log(typeof a.configure, typeof a.renderText)"],
      { encoding: "utf8" },
    );
    assert.equal(out.trim(), "function function");
  });
  it("shares one task identity, registry and configuration between the ESM and the CommonJS build in one process", () => {
    const script = `
      import { createRequire } from "node:module";
      const esm = await import("asyncdoctor");
      const esmHooks = await import("asyncdoctor/hooks");
      const cjs = createRequire(import.meta.url)("asyncdoctor");
      if (esm.TaskTracker === cjs.TaskTracker) throw new Error("expected two copies of the package");
      let gate; const open = new Promise((r) => (gate = r));
      const tracker = new cjs.TaskTracker({ name: "cjs-side" });
      let seen;
      const task = tracker.spawn(async () => { seen = esmHooks.currentTask()?.name; await open; }, { name: "made-by-cjs" });
      const names = esm.snapshot().tasks.map((t) => t.name);
      cjs.configure({ longWaitMs: 1234 });
      gate(); await task;
      console.log(JSON.stringify({ seen, names, longWaitMs: esm.getConfig().longWaitMs }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(out), { seen: "made-by-cjs", names: ["made-by-cjs"], longWaitMs: 1234 });
  });
});
