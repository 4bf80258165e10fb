import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { channels } from "../../src/core/channels.js";
import { TaskRecord } from "../../src/core/task.js";
import type { WaitTarget } from "../../src/core/task.js";
import { TimelineRecorder } from "../../src/diagnose/timeline.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { deferred } from "../tasks/helpers.js";

// A primitive as sync/ publishes it (the channel carries the primitive itself).
const lockA: WaitTarget = { name: "a", kind: "mutex", site: undefined, holders: () => [] };
const lockB: WaitTarget = { name: "b", kind: "semaphore", site: undefined, holders: () => [] };

describe("TimelineRecorder", () => {
  it("records spawns and settles of tracked tasks, with parent and final state", async () => {
    using rec = new TimelineRecorder().start();
    const tracker = new TaskTracker({ name: "t" });
    const gate = deferred();
    const parent = tracker.spawn(
      async () => {
        const child = tracker.spawn(() => gate.promise, { name: "child" });
        gate.resolve();
        await child;
      },
      { name: "parent" },
    );
    await parent;
    const failing = tracker.spawn(() => Promise.reject(new Error("boom")), { name: "failing" });
    await failing.catch(() => {});
    const kinds = rec.events().map((e) => `${e.kind}:${e.taskName}${e.state ? `:${e.state}` : ""}`);
    assert.deepEqual(kinds, ["spawn:parent", "spawn:child", "settle:child:fulfilled", "settle:parent:fulfilled", "spawn:failing", "settle:failing:rejected"]);
    const child = rec.events()[1]!;
    assert.equal(child.parentId, parent.id);
    const times = rec.events().map((e) => e.time);
    assert.deepEqual(
      [...times].sort((a, b) => a - b),
      times,
      "oldest first",
    );
  });

  it("records lock waits, acquires and releases, naming the primitive and the task", async () => {
    using rec = new TimelineRecorder().start();
    const tracker = new TaskTracker();
    const task = tracker.spawn(async () => {}, { name: "worker" });
    await task;
    channels.lockWait.publish({ lock: lockA, task: task.record, permits: 1 });
    channels.lockAcquire.publish({ lock: lockA, task: task.record, permits: 1, site: { file: "/x.ts", line: 3, column: 1 } });
    channels.lockWait.publish({ lock: lockB, task: undefined, permits: 2, mode: "read" });
    channels.lockRelease.publish({ lock: lockA, task: task.record, permits: 1, heldMs: 2 });
    channels.lockAbandon.publish({ lock: lockB, task: undefined, permits: 2, mode: "read", reason: "timeout", waitedMs: 5 });
    const lockEvents = rec.events().filter((e) => e.lockName !== undefined);
    assert.deepEqual(
      lockEvents.map((e) => [e.kind, e.taskName, e.lockName, e.lockKind, e.lockId, e.permits]),
      [
        ["wait", "worker", "a", "mutex", 1, 1],
        ["acquire", "worker", "a", "mutex", 1, 1],
        ["wait", undefined, "b", "semaphore", 2, 2],
        ["release", "worker", "a", "mutex", 1, 1],
        ["abandon", undefined, "b", "semaphore", 2, 2],
      ],
    );
    assert.equal(lockEvents[4]!.reason, "timeout");
    assert.equal(lockEvents[1]!.site?.line, 3);
    assert.equal(lockEvents[2]!.mode, "read");
  });

  it("names the task a runExclusive/use scope runs in, so the report draws them in one lane", async () => {
    using rec = new TimelineRecorder().start();
    const tracker = new TaskTracker();
    const task = tracker.spawn(async () => {}, { name: "worker" });
    await task;
    const outer = new TaskRecord("worker", "scope", task.record, undefined);
    const inner = new TaskRecord("worker", "scope", outer, undefined);
    const topScope = new TaskRecord("mutex-a-holder-1", "scope", undefined, undefined);
    channels.lockAcquire.publish({ lock: lockA, task: inner, permits: 1 });
    channels.lockAcquire.publish({ lock: lockA, task: topScope, permits: 1 });
    channels.lockAcquire.publish({ lock: lockA, task: task.record, permits: 1 });
    assert.deepEqual(
      rec
        .events()
        .filter((e) => e.kind === "acquire")
        .map((e) => [e.taskId, e.ownerId, e.ownerName]),
      [
        [inner.id, task.id, "worker"],
        [topScope.id, topScope.id, "mutex-a-holder-1"],
        [task.id, undefined, undefined],
      ],
    );
  });

  it("keeps only the newest events when the ring is full, and counts the dropped ones", () => {
    using rec = new TimelineRecorder({ capacity: 3 }).start();
    for (let i = 0; i < 5; i++) channels.lockWait.publish({ lock: i % 2 ? lockA : lockB, task: undefined, permits: i + 1 });
    assert.deepEqual(
      rec.events().map((e) => e.permits),
      [3, 4, 5],
    );
    assert.equal(rec.dropped, 2);
    rec.clear();
    assert.deepEqual(rec.events(), []);
    assert.equal(rec.dropped, 0);
  });

  it("subscribes only while started, so publishers skip their work otherwise", () => {
    const rec = new TimelineRecorder();
    assert.equal(channels.lockWait.hasSubscribers, false);
    rec.start().start();
    assert.equal(channels.lockWait.hasSubscribers, true);
    assert.equal(rec.running, true);
    rec.stop().stop();
    assert.equal(channels.lockWait.hasSubscribers, false);
    assert.equal(channels.taskSpawn.hasSubscribers, false);
    channels.lockWait.publish({ lock: lockA, task: undefined });
    assert.equal(rec.events().length, 0);
  });

  it("ignores malformed messages instead of throwing inside the publisher", () => {
    using rec = new TimelineRecorder().start();
    channels.lockWait.publish(null);
    channels.lockAcquire.publish({ lock: 5, task: "x" });
    channels.taskSpawn.publish(42);
    assert.deepEqual(
      rec.events().map((e) => [e.kind, e.lockName, e.taskName]),
      [["acquire", undefined, undefined]],
    );
  });

  describe("bad input", () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ["options null", null, /"options" argument must be an object\. Received null/],
      ["capacity 0", { capacity: 0 }, /"options\.capacity" is out of range\. It must be an integer >= 1 and <= 1000000\. Received type number \(0\)/],
      ["capacity 1.5", { capacity: 1.5 }, /"options\.capacity" is out of range/],
      ["capacity a string", { capacity: "10" }, /"options\.capacity" argument must be of type number\. Received type string/],
    ];
    for (const [name, options, re] of cases) {
      it(name, () => assert.throws(() => new TimelineRecorder(options as never), re));
    }
  });
});
