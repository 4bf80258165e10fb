// leakCheck() in-process: attribution by scope, the allow-list, and argument checks.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "../../src/tasks/default-tracker.js";
import { assertNoLeaks, leakCheck, LeakError, setupLeakChecks, TestTimeoutError } from "../../src/testing/index.js";
import { exitFindings } from "../../src/diagnose/exit-report.js";
import { isExcusedFromExitReport } from "../../src/tasks/default-tracker.js";
import { deferred } from "../tasks/helpers.js";
import diagnosticsChannel from "node:diagnostics_channel";
import { channelNames } from "../../src/core/channels.js";
import { registerSnapshotSection } from "../../src/core/registry.js";
import type { LockSnapshot } from "../../src/core/registry.js";
import { TaskRecord } from "../../src/core/task.js";

// sync/ registers the `locks` section and publishes acquires; stood in for here
let locks: LockSnapshot[] = [];
registerSnapshotSection("locks", () => locks);

describe("leakCheck()", () => {
  it("fails with a LeakError naming the leftover task; passes once it is awaited", async () => {
    const gate = deferred();
    let leaked: Promise<unknown> | undefined;
    const leaky = leakCheck(
      async () => {
        leaked = spawn(() => gate.promise, { name: "left-running" });
      },
      { name: "leaky test" },
    );
    await assert.rejects(leaky(), (err: unknown) => {
      assert.ok(err instanceof LeakError);
      assert.equal(err.diagnoses.length, 1);
      assert.equal(err.diagnosis.rule, "leaked-task");
      assert.match(err.message, /test "leaky test" leaked 1 thing\(s\)/);
      assert.match(err.message, /task "left-running" was still running when test "leaky test" ended/);
      assert.match(err.message, /spawned here: task "left-running" at test\/testing\/leak-check\.test\.ts:\d+/);
      return true;
    });
    gate.resolve();
    await leaked;
    const clean = leakCheck(async () => {
      await spawn(async () => 1, { name: "awaited" });
      return "ok";
    });
    assert.equal(await clean(), "ok");
  });

  it("does not blame a test for work another concurrent test left behind", async () => {
    const gate = deferred();
    const started = deferred();
    const a = leakCheck(
      async () => {
        spawn(() => gate.promise, { name: "from-a" });
        started.resolve();
      },
      { name: "a" },
    );
    const b = leakCheck(
      async () => {
        await started.promise;
        await spawn(async () => 2, { name: "from-b" });
      },
      { name: "b" },
    );
    const [ra, rb] = await Promise.allSettled([a(), b()]);
    assert.equal(ra.status, "rejected");
    assert.equal(rb.status, "fulfilled");
    gate.resolve();
  });

  it("lets allow-listed work outlive the test, by name or pattern", async () => {
    const gate = deferred();
    await leakCheck(
      async () => {
        spawn(() => gate.promise, { name: "metrics-flusher" });
        spawn(() => gate.promise, { name: "cache-warmer-1" });
      },
      { allow: ["metrics-flusher", /^cache-warmer-/] },
    )();
    gate.resolve();
  });

  it("passes a test's own failure through unchanged", async () => {
    const boom = new Error("assertion in the test");
    await assert.rejects(
      leakCheck(async () => {
        throw boom;
      })(),
      (e) => e === boom,
    );
  });

  it("fails a test that returns while a lock acquired in it is still held; not a test that released it", async () => {
    const holder = new TaskRecord("runExclusive scope", "scope", undefined, undefined);
    const lock = { name: "accounts" };
    const held = leakCheck(
      async () => {
        diagnosticsChannel.channel(channelNames.lockAcquire).publish({ lock, task: holder, waitedMs: 0 });
        locks = [
          {
            id: 1,
            name: "accounts",
            kind: "mutex",
            site: undefined,
            capacity: 1,
            waiters: [],
            holders: [{ taskId: holder.id, taskName: holder.name, site: undefined, forMs: 1, permits: 1 }],
          },
        ];
      },
      { name: "forgets to release" },
    );
    await assert.rejects(held(), (err: unknown) => {
      assert.ok(err instanceof LeakError);
      assert.deepEqual(
        err.diagnoses.map((d) => d.rule),
        ["leaked-lock"],
      );
      assert.match(err.message, /mutex "accounts" was still held by "runExclusive scope" when test "forgets to release" ended/);
      return true;
    });
    const released = leakCheck(
      async () => {
        const other = new TaskRecord("other scope", "scope", undefined, undefined);
        diagnosticsChannel.channel(channelNames.lockAcquire).publish({ lock, task: other, waitedMs: 0 });
      },
      { name: "releases" },
    );
    await released(); // "accounts" is still held, but by another test's task
    locks = [];
  });

  it("rejects bad arguments", () => {
    assert.throws(() => leakCheck(5 as never), { name: "TypeError", message: /"fn" argument must be a function/ });
    assert.throws(() => leakCheck(async () => {}, null as never), { name: "TypeError", message: /"options"/ });
    assert.throws(() => leakCheck(async () => {}, { allow: "x" as never }), { name: "TypeError", message: /"options\.allow"/ });
    assert.throws(() => leakCheck(async () => {}, { allow: [3 as never] }), {
      name: "TypeError",
      message: /"options\.allow\[0\]".*Received type number \(3\)/,
    });
    assert.throws(() => leakCheck(async () => {}, { timers: "yes" as never }), { name: "TypeError", message: /"options\.timers"/ });
    assert.throws(() => leakCheck(async () => {}, { name: 1 as never }), { name: "TypeError", message: /"options\.name"/ });
    assert.throws(() => setupLeakChecks(null as never), { name: "TypeError", message: /"hooks"/ });
    assert.throws(() => setupLeakChecks({ beforeEach: () => {} } as never), { name: "TypeError", message: /"hooks\.afterEach" argument must be a function/ });
  });

  it("assertNoLeaks() outside a checked test checks the whole process, as goleak's VerifyNone does", async () => {
    await assertNoLeaks(); // nothing left running: passes
    const gate = deferred();
    const left = spawn(() => gate.promise, { name: "process-wide-orphan" });
    await assert.rejects(assertNoLeaks(), (err: unknown) => {
      assert.ok(err instanceof LeakError);
      assert.deepEqual(
        err.diagnoses.map((d) => d.rule),
        ["leaked-task"],
      );
      assert.match(err.message, /task "process-wide-orphan" was still running when assertNoLeaks\(\) checked the whole process/);
      return true;
    });
    await assertNoLeaks({ allow: ["process-wide-orphan"] });
    gate.resolve();
    await left;
    await assertNoLeaks();
    await assert.rejects(assertNoLeaks(null as never), { name: "TypeError", message: /"options"/ });
  });

  it("mid-test, assertNoLeaks() says where it was called, not that the test ended", async () => {
    const gate = deferred();
    await assert.rejects(
      leakCheck(
        async () => {
          spawn(() => gate.promise, { name: "mid-test" });
          await assertNoLeaks();
        },
        { name: "checks early" },
      )(),
      (err: unknown) => {
        assert.ok(err instanceof LeakError);
        assert.match(err.message, /task "mid-test" was still running when assertNoLeaks\(\) was called in test "checks early"/);
        assert.doesNotMatch(err.message, /ended/);
        return true;
      },
    );
    gate.resolve();
  });

  it("does not report an allow-listed task again at exit", async () => {
    const gate = deferred();
    let task: ReturnType<typeof spawn> | undefined;
    await leakCheck(
      async () => {
        task = spawn(() => gate.promise, { name: "metrics-flusher-2" });
      },
      { allow: ["metrics-flusher-2"] },
    )();
    assert.ok(isExcusedFromExitReport(task!.record));
    assert.deepEqual(
      exitFindings("exit").filter((d) => /metrics-flusher-2/.test(d.summary)),
      [],
    );
    gate.resolve();
    await task;
  });

  it("with a timeout, a stuck test fails naming the await it is stuck in (its own only)", async () => {
    const gate = deferred();
    const other = deferred();
    async function waitForReply(): Promise<void> {
      await gate.promise;
    }
    const elsewhere = (async () => {
      await other.promise; // pending, but not the test's
    })();
    await assert.rejects(
      leakCheck(
        async () => {
          await waitForReply();
        },
        { name: "hangs", timeout: 50 },
      )(),
      (err: unknown) => {
        assert.ok(err instanceof TestTimeoutError);
        assert.match(err.message, /test "hangs" did not finish within 50 ms; it is stuck here/);
        assert.match(err.message, /waitForReply\(\) has been awaiting a promise for \d+ ms; seen when test "hangs" timed out/);
        assert.equal(err.diagnoses.length, 1);
        return true;
      },
    );
    gate.resolve();
    other.resolve();
    await elsewhere;
    assert.equal(await leakCheck(async () => 5, { timeout: 1_000 })(), 5, "a test within its limit passes");
    assert.throws(() => leakCheck(async () => {}, { timeout: -1 }), { name: "RangeError", message: /"options\.timeout"/ });
  });
});
