import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TaskTracker, ShutdownError } from "../../src/tasks/task-tracker.js";
import { currentTask } from "../../src/core/task.js";
import { ClosedError } from "../../src/core/errors.js";
import { collecting, deferred, nextMacrotask, untilAborted } from "../helpers.js";
import { renderText } from "../../src/report/text.js";

describe("TaskTracker.spawn", () => {
  it("runs a function in its own task and resolves to its result", async () => {
    const tracker = new TaskTracker({ name: "t" });
    const task = tracker.spawn(async () => currentTask()?.name, { name: "job" });
    assert.equal(task.name, "job");
    assert.equal(await task, "job");
    assert.equal(task.state, "fulfilled");
    assert.deepEqual(tracker.stats(), { pending: 0, completed: 1, failed: 0, cancelled: 0 });
  });

  it("adopts a promise that is already running", async () => {
    const tracker = new TaskTracker();
    const d = deferred<number>();
    const task = tracker.spawn(d.promise, { name: "adopted" });
    assert.equal(tracker.stats().pending, 1);
    d.resolve(7);
    assert.equal(await task, 7);
    assert.equal(tracker.stats().completed, 1);
  });

  it("names a task after its function when no name is given", async () => {
    const tracker = new TaskTracker();
    const t = tracker.spawn(async function sendReport() {});
    assert.equal(t.name, "sendReport");
    await t;
  });

  it("gives the function an AbortSignal that abort() fires, and counts it as cancelled", async () => {
    const tracker = new TaskTracker();
    const task = tracker.spawn((signal) => untilAborted(signal), { name: "waiter" });
    task.abort(new Error("stop"));
    await assert.rejects(task, /stop/);
    assert.equal(task.state, "cancelled");
    assert.deepEqual(tracker.stats(), { pending: 0, completed: 0, failed: 0, cancelled: 1 });
  });

  it("links an outside signal", async () => {
    const tracker = new TaskTracker();
    const ac = new AbortController();
    const task = tracker.spawn((signal) => untilAborted(signal), { signal: ac.signal });
    ac.abort(new Error("outside"));
    await assert.rejects(task, /outside/);
    assert.equal(task.state, "cancelled");
  });

  it("counts a synchronous throw as a failure, not a crash of spawn", async () => {
    const tracker = new TaskTracker();
    const task = tracker.spawn(() => {
      throw new Error("sync boom");
    });
    await assert.rejects(task, /sync boom/);
    assert.equal(tracker.stats().failed, 1);
  });

  it("keeps exact stats over 100,000 concurrent tasks", async () => {
    const tracker = new TaskTracker();
    const gate = deferred();
    for (let i = 0; i < 100_000; i++) {
      tracker
        .spawn(async () => {
          await gate.promise;
          if (i % 10 === 0) throw new Error(`fail ${i}`);
        })
        .markObserved();
    }
    assert.equal(tracker.stats().pending, 100_000);
    gate.resolve();
    const rep = await tracker.waitAll();
    assert.equal(rep.done, true);
    assert.deepEqual(tracker.stats(), { pending: 0, completed: 90_000, failed: 10_000, cancelled: 0 });
  });
});

describe("failures nobody awaited", () => {
  it("become a task-failed report naming the task and where it failed", async () => {
    const { found } = await collecting(async () => {
      const tracker = new TaskTracker({ name: "bg", captureSites: true });
      tracker.spawn(
        async () => {
          throw new TypeError("bad payload");
        },
        { name: "send-email" },
      );
      await tracker.waitAll();
      await nextMacrotask();
    });
    assert.equal(found.length, 1);
    const d = found[0]!;
    assert.equal(d.rule, "task-failed");
    assert.match(d.summary, /"send-email".*tracker "bg".*TypeError: bad payload/);
    assert.match(d.subjects[0]!.site!.file, /task-tracker\.test\.ts$/);
    assert.match(renderText(d, { color: false }), /failed here: code "TypeError: bad payload" at test\/tasks\/task-tracker\.test\.ts:\d+/);
  });

  it("are not reported when the task is awaited", async () => {
    const { found } = await collecting(async () => {
      const tracker = new TaskTracker();
      const t = tracker.spawn(async () => {
        throw new Error("handled");
      });
      await assert.rejects(t, /handled/);
      await nextMacrotask();
    });
    assert.deepEqual(found, []);
  });

  it("are not reported when .catch() is attached", async () => {
    const { found } = await collecting(async () => {
      const tracker = new TaskTracker();
      tracker
        .spawn(async () => {
          throw new Error("caught");
        })
        .catch(() => {});
      await tracker.waitAll();
      await nextMacrotask();
    });
    assert.deepEqual(found, []);
  });

  it("are not reported for successful or cancelled tasks", async () => {
    const { found } = await collecting(async () => {
      const tracker = new TaskTracker();
      tracker.spawn(async () => 1);
      const t = tracker.spawn((s) => untilAborted(s));
      t.abort();
      await tracker.waitAll();
      await nextMacrotask();
    });
    assert.deepEqual(found, []);
  });
});

describe("waitAll and shutdown", () => {
  it("waitAll waits for tasks spawned while waiting", async () => {
    const tracker = new TaskTracker();
    const order: string[] = [];
    tracker.spawn(async () => {
      await Promise.resolve();
      tracker.spawn(async () => {
        await Promise.resolve();
        order.push("child");
      });
      order.push("parent");
    });
    const rep = await tracker.waitAll();
    assert.equal(rep.done, true);
    assert.deepEqual(order, ["parent", "child"]);
  });

  it("waitAll with a timeout reports what is still pending", async () => {
    const tracker = new TaskTracker();
    const gate = deferred();
    tracker.spawn(() => gate.promise, { name: "slow" });
    const rep = await tracker.waitAll({ timeout: 5 });
    assert.equal(rep.done, false);
    assert.deepEqual(
      rep.pending.map((p) => p.name),
      ["slow"],
    );
    gate.resolve();
    await tracker.waitAll();
  });

  it("shutdown's timeout aborts and names the stuck task and where it was spawned", async () => {
    const { result: rep, found } = await collecting(async () => {
      const tracker = new TaskTracker({ name: "workers", captureSites: true });
      tracker.spawn(async () => {}, { name: "quick" });
      tracker.spawn(() => new Promise(() => {}), { name: "stuck-forever" }); // ignores its signal
      const honours = tracker.spawn((signal) => untilAborted(signal), { name: "honours-signal" });
      const rep = await tracker.shutdown({ timeout: 10, abortGrace: 10 });
      assert.equal(honours.state, "cancelled");
      return rep;
    });
    assert.equal(rep.done, false);
    assert.deepEqual(
      rep.pending.map((p) => p.name),
      ["stuck-forever"],
    );
    assert.match(rep.toString(), /"stuck-forever" running \d+ ms, spawned at test\/tasks\/task-tracker\.test\.ts:\d+/);
    // Both the task that ignored its abort and the one whose work was cut off are reported.
    assert.deepEqual(
      found.map((d) => d.rule),
      ["leaked-task", "leaked-task"],
    );
    const stuck = found.find((d) => d.summary.includes("stuck-forever"));
    assert.match(stuck!.summary, /"stuck-forever" was still running when tracker "workers" shut down/);
    const cut = found.find((d) => d.summary.includes("honours-signal"));
    assert.match(cut!.summary, /work was cut off \(aborted; it ended cancelled\)/);
    assert.deepEqual(rep.aborted.map((p) => p.name).sort(), ["honours-signal", "stuck-forever"]);
    assert.match(rep.toString(), /outlived the timeout and were aborted:\n  - "honours-signal" \(cancelled/);
    assert.deepEqual(rep.stats, { pending: 1, completed: 1, failed: 0, cancelled: 1 });
  });

  it("shutdown returns done when everything finishes in time, and reports nothing", async () => {
    const { result: rep, found } = await collecting(async () => {
      const tracker = new TaskTracker();
      tracker.spawn(async () => {});
      return tracker.shutdown({ timeout: 1000 });
    });
    assert.equal(rep.done, true);
    assert.deepEqual(found, []);
    assert.match(rep.toString(), /all tasks settled/);
  });

  it("shutdown throws with throwOnTimeout", async () => {
    await collecting(async () => {
      const tracker = new TaskTracker({ name: "strict" });
      tracker.spawn(() => new Promise(() => {}), { name: "hung" });
      await assert.rejects(tracker.shutdown({ timeout: 1, abortGrace: 1, throwOnTimeout: true }), (err: unknown) => {
        assert.ok(err instanceof ShutdownError);
        assert.match(err.message, /tracker "strict" shut down with 1 task\(s\) still running[\s\S]*"hung"/);
        return true;
      });
    });
  });

  it("spawn after shutdown throws, naming the tracker and the task", async () => {
    const tracker = new TaskTracker({ name: "closed-one" });
    await tracker.shutdown({ timeout: 1 });
    assert.throws(
      () => tracker.spawn(async () => {}, { name: "late" }),
      (err: unknown) => {
        assert.ok(err instanceof ClosedError);
        assert.match(err.message, /tracker "closed-one" is shut down: cannot spawn "late"/);
        return true;
      },
    );
  });
});

describe("TaskTracker bad input", () => {
  const tracker = new TaskTracker();
  it("rejects a spawn of something that is neither a function nor a promise", () => {
    assert.throws(() => tracker.spawn(42 as never), {
      name: "TypeError",
      message: /"task" argument must be a function or a promise. Received type number \(42\)/,
    });
    assert.throws(() => tracker.spawn(null as never), { name: "TypeError", message: /Received null/ });
  });
  it("rejects a name that is not a string", () => {
    assert.throws(() => tracker.spawn(async () => {}, { name: 5 as never }), { name: "TypeError", message: /"options.name".*string.*number \(5\)/ });
    assert.throws(() => new TaskTracker({ name: {} as never }), { name: "TypeError", message: /"options.name"/ });
  });
  it("rejects bad options objects and signals", () => {
    assert.throws(() => tracker.spawn(async () => {}, "x" as never), { name: "TypeError", message: /"options"/ });
    assert.throws(() => tracker.spawn(async () => {}, { signal: {} as never }), { name: "TypeError", message: /"options.signal".*AbortSignal/ });
  });
  it("rejects negative, NaN and non-number timeouts", async () => {
    await assert.rejects(tracker.waitAll({ timeout: -1 }), { name: "RangeError", message: /"options.timeout".*-1/ });
    await assert.rejects(tracker.waitAll({ timeout: NaN }), { name: "RangeError", message: /NaN/ });
    await assert.rejects(tracker.shutdown({ timeout: "10" as never }), { name: "TypeError", message: /"options.timeout".*number/ });
    await assert.rejects(new TaskTracker().shutdown({ abortGrace: -5 }), { name: "RangeError", message: /"options.abortGrace"/ });
  });
});
