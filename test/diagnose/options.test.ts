// Argument checks of the runtime doctor's public functions, and production mode's loop-delay statistics.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { exitFindings, installExitReport } from "../../src/diagnose/exit-report.js";
import { loopDelay, monitorLoopBlocking, stopLoopDelay } from "../../src/diagnose/loop-blocking.js";
import { enableDebugMode } from "../../src/diagnose/debug-mode.js";

describe("bad input", () => {
  it("installExitReport", () => {
    assert.throws(() => installExitReport(null as never), { name: "TypeError", message: /"options"/ });
    assert.throws(() => installExitReport({ failOn: "leaked-task" as never }), {
      name: "TypeError",
      message: /"options\.failOn" argument must be an array of rule ids/,
    });
    assert.throws(() => installExitReport({ failOn: [1 as never] }), { name: "TypeError", message: /"options\.failOn"/ });
    assert.throws(() => installExitReport({ reportFile: 5 as never }), { name: "TypeError", message: /"options\.reportFile".*Received type number \(5\)/ });
  });
  it("exitFindings", () => {
    assert.throws(() => exitFindings("later" as never), { name: "TypeError", message: /"reason".*Received type string \("later"\)/ });
  });
  it("monitorLoopBlocking", () => {
    assert.throws(() => monitorLoopBlocking({ thresholdMs: 0 }), { name: "RangeError", message: /"options\.thresholdMs".*> 0/ });
    assert.throws(() => monitorLoopBlocking({ thresholdMs: "100" as never }), { name: "TypeError", message: /"options\.thresholdMs"/ });
    assert.throws(() => monitorLoopBlocking(null as never), { name: "TypeError", message: /"options"/ });
    assert.throws(() => monitorLoopBlocking({ skipStartup: 1 as never }), { name: "TypeError", message: /"options\.skipStartup".*Received type number \(1\)/ });
  });
  it("enableDebugMode and loopDelay", () => {
    assert.throws(() => enableDebugMode(null as never), { name: "TypeError", message: /"options"/ });
    assert.throws(() => loopDelay(null as never), { name: "TypeError", message: /"options"/ });
  });
});

describe("exitFindings", () => {
  it("finds nothing when nothing was left behind", () => {
    assert.deepEqual(exitFindings("exit"), []);
    assert.deepEqual(exitFindings("drained"), []);
  });
});

describe("loopDelay() (production mode)", () => {
  it("returns loop-delay statistics once samples exist", async () => {
    loopDelay();
    // the histogram samples every 20 ms: wait for samples by polling on timers, not a fixed sleep
    let stats = loopDelay();
    while (stats.count < 2) {
      await new Promise((r) => setTimeout(r, 20));
      stats = loopDelay();
    }
    assert.ok(stats.count >= 2);
    assert.ok(stats.min <= stats.p50 && stats.p50 <= stats.p99 && stats.p99 <= stats.max);
    assert.equal(loopDelay({ reset: true }).count >= 2, true);
    stopLoopDelay();
  });
});
