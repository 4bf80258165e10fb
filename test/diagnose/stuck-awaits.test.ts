// The stuck-awaits report in-process: one chain per task (no other task's steps), identical
// chains grouped, what could settle the await, the threshold, withTimeout's form, the proof
// when an awaited promise is collected while pending, and argument checks.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { addCollector } from "../../src/core/diagnosis.js";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { configure } from "../../src/core/config.js";
import { watchEmitters } from "../../src/diagnose/emitter-watch.js";
import { trackPromises } from "../../src/diagnose/promise-tracking.js";
import { setAwaitChainBuilder, stuckAwaitsReport, timeoutStuckAwaits } from "../../src/diagnose/stuck-awaits.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { deferred } from "../tasks/helpers.js";

configure({ onDiagnosis: () => {} });

async function innerWait(gate: Promise<void>): Promise<void> {
  await gate;
}
async function outerJob(gate: Promise<void>): Promise<void> {
  await innerWait(gate);
}
async function otherJob(gate: Promise<void>): Promise<void> {
  await gate;
}

const lines = (d: Diagnosis | undefined) => (d?.steps ?? []).map((s) => `${s.site?.functionName}:${s.site?.line}`);

describe("stuckAwaitsReport()", () => {
  it("makes one chain per task, outermost first, with no step of another task", async () => {
    const stop = trackPromises();
    const gate = deferred();
    const tracker = new TaskTracker({ name: "t", captureSites: true });
    try {
      tracker.spawn(() => outerJob(gate.promise), { name: "outer" });
      tracker.spawn(() => otherJob(gate.promise), { name: "other" });
      await new Promise((r) => setImmediate(r));
      const found = stuckAwaitsReport("dump", { thresholdMs: 0, handles: false });
      const outer = found.find((d) => /task "outer"/.test(d.summary));
      const other = found.find((d) => /task "other"/.test(d.summary));
      assert.equal(outer?.certainty, "observed");
      assert.deepEqual(lines(outer), ["outerJob:22", "innerWait:19"]);
      assert.match(outer.summary, /^innerWait\(\) has been awaiting a promise for \d+ ms \(in task "outer"\); seen in a state dump$/);
      assert.equal(other?.steps, undefined, "a single await has no chain to show");
      assert.equal(other?.site?.functionName, "otherJob");
    } finally {
      gate.resolve();
      await tracker.waitAll();
      stop();
    }
  });

  it("groups tasks stuck in the same chain into one finding", async () => {
    const stop = trackPromises();
    const gate = deferred();
    const tracker = new TaskTracker({ name: "t" });
    try {
      for (let i = 0; i < 3; i++) tracker.spawn(() => outerJob(gate.promise), { name: `copy-${i}` });
      await new Promise((r) => setImmediate(r));
      const found = stuckAwaitsReport("drained");
      const group = found.filter((d) => d.site?.functionName === "innerWait");
      assert.equal(group.length, 1);
      assert.equal(group[0]!.certainty, "proven");
      assert.match(group[0]!.summary, /can never settle: the event loop is empty, nothing is left to resolve it \(in 3 tasks: "copy-0", "copy-1", "copy-2"\)/);
    } finally {
      gate.resolve();
      await tracker.waitAll();
      stop();
    }
  });

  it("says which event could settle it, and that it was emitted before the listener was added", async () => {
    const stop = trackPromises();
    const unwatch = watchEmitters();
    const tracker = new TaskTracker({ name: "t" });
    const early = new EventEmitter();
    const late = new EventEmitter();
    try {
      early.emit("ready");
      tracker.spawn(
        async () => {
          await new Promise((resolve) => early.once("ready", resolve));
        },
        { name: "missed" },
      );
      tracker.spawn(
        async () => {
          await new Promise((resolve) => late.once("connected", resolve));
        },
        { name: "waiting" },
      );
      await new Promise((r) => setImmediate(r));
      const found = stuckAwaitsReport("SIGTERM", { thresholdMs: 0, handles: false });
      const missed = found.find((d) => /task "missed"/.test(d.summary));
      assert.match(missed!.summary, /it waits for event "ready", which was emitted before the listener was added/);
      const hint = missed!.subjects.find((s) => s.role === "could settle it");
      assert.equal(hint?.name, `a listener for event "ready" on EventEmitter`);
      assert.match(hint?.site?.file ?? "", /stuck-awaits\.test\.ts$/);
      const waiting = found.find((d) => /task "waiting"/.test(d.summary));
      assert.doesNotMatch(waiting!.summary, /emitted before/);
      assert.match(
        waiting!.subjects.find((s) => s.role === "could settle it")?.detail ?? "",
        /still listening: "connected" has not been emitted since the listener was added/,
      );
      early.emit("ready");
      late.emit("connected");
      await tracker.waitAll();
    } finally {
      unwatch();
      stop();
    }
  });

  it("stays silent for awaits younger than the threshold, for settled ones, and when tracking is off", async () => {
    assert.deepEqual(stuckAwaitsReport("exit"), [], "tracking off");
    const stop = trackPromises();
    const gate = deferred();
    try {
      const running = otherJob(gate.promise);
      assert.deepEqual(
        stuckAwaitsReport("exit", { thresholdMs: 60_000 }).filter((d) => d.site?.functionName === "otherJob"),
        [],
      );
      gate.resolve();
      await running;
      assert.deepEqual(
        stuckAwaitsReport("exit", { thresholdMs: 0 }).filter((d) => d.site?.functionName === "otherJob"),
        [],
      );
    } finally {
      stop();
    }
  });

  it("for a timeout, keeps to the awaits of the task that timed out", async () => {
    const stop = trackPromises();
    const gate = deferred();
    const tracker = new TaskTracker({ name: "t" });
    try {
      const mine = tracker.spawn(() => outerJob(gate.promise), { name: "load-orders" });
      tracker.spawn(() => otherJob(gate.promise), { name: "unrelated" });
      await new Promise((r) => setImmediate(r));
      const found = timeoutStuckAwaits("load-orders", mine.record);
      assert.equal(found.length, 1);
      assert.match(found[0]!.summary, /\(in task "load-orders"\); seen when operation "load-orders" timed out/);
      assert.ok(timeoutStuckAwaits("all").length >= 2, "without a task: every pending await");
    } finally {
      gate.resolve();
      await tracker.waitAll();
      stop();
    }
  });

  it("uses the chain builder it is given (the await graph's activations)", async () => {
    const stop = trackPromises();
    const gate = deferred();
    try {
      const running = outerJob(gate.promise);
      setAwaitChainBuilder((awaits) => [{ task: undefined, awaits: awaits.filter((a) => a.site?.functionName === "outerJob") }]);
      const found = stuckAwaitsReport("dump", { thresholdMs: 0, handles: false });
      assert.deepEqual(
        found.map((d) => d.site?.functionName),
        ["outerJob"],
      );
      setAwaitChainBuilder(undefined);
      gate.resolve();
      await running;
    } finally {
      setAwaitChainBuilder(undefined);
      stop();
    }
  });

  it("proves it at once when an awaited promise is garbage-collected while still pending", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.ok(gc, "the tests run with --expose-gc");
    const found: Diagnosis[] = [];
    const stopCollecting = addCollector((d) => {
      if (d.rule === "never-settled") found.push(d);
    });
    const stop = trackPromises();
    try {
      async function lostForever(): Promise<void> {
        await new Promise<void>(() => {}); // nothing keeps its resolve
      }
      void lostForever();
      // a live, still-resolvable await must not be proven
      const gate = deferred();
      const alive = otherJob(gate.promise);
      for (let i = 0; i < 20 && found.length === 0; i++) {
        gc();
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(found.length, 1);
      assert.equal(found[0]!.certainty, "proven");
      assert.match(found[0]!.summary, /^lostForever\(\) awaited a promise that was garbage-collected while still pending/);
      gate.resolve();
      await alive;
    } finally {
      stop();
      stopCollecting();
    }
  });

  it("rejects bad arguments", () => {
    assert.throws(() => stuckAwaitsReport("later" as never), { name: "TypeError", message: /"reason"/ });
    assert.throws(() => stuckAwaitsReport("dump", { thresholdMs: -1 }), { name: "RangeError", message: /"options\.thresholdMs"/ });
    assert.throws(() => stuckAwaitsReport("dump", { filter: 3 as never }), { name: "TypeError", message: /"options\.filter"/ });
    assert.throws(() => stuckAwaitsReport("dump", null as never), { name: "TypeError", message: /"options"/ });
    assert.throws(() => setAwaitChainBuilder(5 as never), { name: "TypeError", message: /"next"/ });
    assert.throws(() => timeoutStuckAwaits(5 as never), { name: "TypeError", message: /"operation"/ });
  });
});
