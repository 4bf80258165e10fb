// exitFindings(): what the exit report lists, with its certainty, from the live registry; the
// `locks` section sync/ registers is stood in for here.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { registerSnapshotSection } from "../../src/core/registry.js";
import type { LockSnapshot } from "../../src/core/registry.js";
import { exitFindings } from "../../src/diagnose/exit-report.js";
import { track } from "../../src/diagnose/resources.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { deferred } from "../tasks/helpers.js";

let locks: LockSnapshot[] = [];
registerSnapshotSection("locks", () => locks);

const site = { file: "/app/src/bank.ts", line: 12, column: 5 };

describe("exitFindings()", () => {
  it("lists a pending task, a held lock with its waiter, and an open resource", async () => {
    const gate = deferred();
    const tracker = new TaskTracker({ name: "jobs", captureSites: true });
    const task = tracker.spawn(() => gate.promise, { name: "transfer" });
    const conn = track({ async close() {} }, { name: "db-conn" });
    locks = [
      {
        id: 1,
        name: "accounts",
        kind: "mutex",
        site,
        capacity: 1,
        holders: [{ taskId: task.id, taskName: "transfer", site, forMs: 40, permits: 1 }],
        waiters: [{ taskId: 77, taskName: "audit", site, forMs: 30, permits: 1 }],
      },
    ];
    try {
      const drained = exitFindings("drained");
      assert.deepEqual(
        drained.map((d) => `${d.certainty} ${d.rule}`),
        ["proven leaked-task", "proven leaked-lock", "observed leaked-resource"],
      );
      const lock = drained[1]!;
      assert.match(lock.summary, /mutex "accounts" was still held by "transfer" when the event loop drained.*with 1 waiter\(s\) that never got it/);
      assert.deepEqual(
        lock.subjects.map((s) => `${s.role}: ${s.name}`),
        ["mutex created here: accounts", "holder, acquired here: transfer", "waiter, waiting here: audit"],
      );
      const atSignal = exitFindings("SIGINT");
      assert.deepEqual(
        atSignal.map((d) => `${d.certainty} ${d.rule}`),
        ["observed leaked-task", "observed leaked-lock", "observed leaked-resource"],
      );
      assert.match(atSignal[0]!.summary, /when the process received SIGINT; its work was cut off/);
    } finally {
      locks = [];
      gate.resolve();
      await task;
      await conn.close();
    }
  });

  it("stays silent once the work is done: settled tasks, free locks, closed resources", async () => {
    const tracker = new TaskTracker({ name: "jobs" });
    await tracker.spawn(async () => 1);
    const conn = track({ async close() {} }, { name: "db-conn" });
    await conn.close();
    locks = [{ id: 2, name: "free", kind: "semaphore", site, capacity: 3, holders: [], waiters: [] }];
    try {
      assert.deepEqual(exitFindings("drained"), []);
      assert.deepEqual(exitFindings("exit"), []);
    } finally {
      locks = [];
    }
  });
});
