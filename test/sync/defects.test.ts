import "./with-await-graph.js";
// Defects found by trial (issue: sound detection), each with the case that showed it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Mutex } from "../../src/sync/mutex.js";
import { Semaphore } from "../../src/sync/semaphore.js";
import { Pool } from "../../src/sync/pool.js";
import { Shared } from "../../src/sync/shared.js";
import { lockOrderCount, MAX_LOCK_ORDERS, resetLockOrder } from "../../src/sync/lock-order.js";
import { configure, getConfig } from "../../src/core/config.js";
import { AbortError, DeadlockError, TimeoutError } from "../../src/core/errors.js";
import { withTimeout } from "../../src/tasks/with-timeout.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { collecting, deferred, tick } from "../helpers.js";

describe("defects found by trial", () => {
  it("an onDiagnosis that throws a value whose String() throws leaves no ghost waiter, and the caller still gets its DeadlockError", async () => {
    const prev = getConfig().onDiagnosis;
    configure({
      onDiagnosis: () => {
        throw Object.create(null); // String() of it throws
      },
    });
    const m = new Mutex({ name: "ghost" });
    try {
      const err = await m
        .runExclusive(async () => {
          await m.runExclusive(async () => {});
        })
        .catch((e: unknown) => e);
      assert.ok(err instanceof DeadlockError, String(err));
    } finally {
      configure({ onDiagnosis: prev });
    }
    assert.equal(m.isLocked, false);
    assert.equal(m.waiting, 0, "no waiter left behind");
  });

  it("a pool whose create() hangs: acquire({ timeout }) times out and the permit is given back; a late resource is kept", async () => {
    const made = deferred<{ id: number }>();
    let calls = 0;
    const pool = new Pool({ name: "hang", max: 1, create: () => (++calls === 1 ? made.promise : { id: calls }) });
    const err = await pool.acquire({ timeout: 10 }).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError, String(err));
    assert.equal(pool.available, 1, "the permit is back");
    made.resolve({ id: 1 });
    await tick();
    assert.equal(pool.idle, 1, "the resource that arrived late is kept for the next acquire");
    const lease = await pool.acquire();
    assert.equal(lease.resource.id, 1);
    lease.release();
  });

  it("a pool whose create() hangs under withTimeout: the expiry gives the permit back", async () => {
    const pool = new Pool({ name: "hang2", max: 1, create: () => new Promise<never>(() => {}) });
    const err = await withTimeout(() => pool.use(async () => {}), 10).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError);
    await tick();
    assert.equal(pool.available, 1);
  });

  it("one AbortSignal shared by many waiters: one listener on it, and one abort ends them all", async () => {
    const m = new Mutex({ name: "shared-signal" });
    const held = await m.acquire();
    const ac = new AbortController();
    const waits = Array.from({ length: 2000 }, () => m.acquire({ signal: ac.signal }).catch((e: unknown) => e));
    assert.equal(getEventListeners(ac.signal, "abort").length, 1, "no MaxListenersExceededWarning: one listener for all");
    ac.abort();
    const results = await Promise.all(waits);
    assert.ok(results.every((e) => e instanceof AbortError));
    assert.equal(m.waiting, 0);
    assert.equal(getEventListeners(ac.signal, "abort").length, 0);
    held.release();
  });

  it("timeouts of 2^31 ms or more are rejected with a RangeError (Node would fire them after 1 ms)", async () => {
    const m = new Mutex();
    const big = 2 ** 31;
    await assert.rejects(m.acquire({ timeout: big }), RangeError);
    await assert.rejects(
      withTimeout(async () => {}, big),
      RangeError,
    );
    const tracker = new TaskTracker({ name: "t" });
    await assert.rejects(tracker.shutdown({ timeout: big }), RangeError);
    await assert.rejects(tracker.waitAll({ timeout: big }), RangeError);
    // the largest Node honours, and Infinity, are fine
    const lease = await m.acquire({ timeout: 2 ** 31 - 1 });
    lease.release();
  });

  it("a Shared updater that never settles is reported as a long wait, and retracted when it settles", async () => {
    const prev = getConfig().longWaitMs;
    configure({ longWaitMs: 10 });
    try {
      const s = new Shared(0, { name: "counter" });
      const slow = deferred<number>();
      const { found } = await collecting(async () => {
        const first = s.update(() => slow.promise);
        const second = s.update((v) => v + 1);
        await new Promise((r) => setTimeout(r, 30));
        slow.resolve(5);
        assert.equal(await first, 5);
        assert.equal(await second, 6);
      });
      const longWaits = found.filter((d) => d.rule === "long-wait");
      assert.equal(longWaits.length, 2);
      assert.match(longWaits[0]!.summary, /updater of "counter".*has not settled.*1 later update/);
      assert.equal(longWaits[1]!.retracts, longWaits[0]!.id);
    } finally {
      configure({ longWaitMs: prev });
    }
  });

  it("two concurrent shutdown() calls give one report per task", async () => {
    const tracker = new TaskTracker({ name: "svc" });
    tracker.spawn(() => new Promise<never>(() => {}), { name: "a" });
    tracker.spawn(() => new Promise<never>(() => {}), { name: "b" });
    const { found } = await collecting(async () => {
      await Promise.all([tracker.shutdown({ timeout: 5, abortGrace: 5 }), tracker.shutdown({ timeout: 5, abortGrace: 5 })]);
    });
    assert.equal(found.filter((d) => d.rule === "leaked-task").length, 2);
  });

  it("a spawned function with rest or default parameters gets its AbortSignal", async () => {
    const tracker = new TaskTracker({ name: "sig" });
    const seen: unknown[] = [];
    await tracker.spawn((...args: unknown[]) => void seen.push(args[0]));
    await tracker.spawn((signal: AbortSignal | undefined = undefined) => void seen.push(signal));
    await tracker.spawn(async function (...args: unknown[]) {
      seen.push(args[0]);
    });
    assert.equal(seen.length, 3);
    for (const s of seen) assert.ok(s instanceof AbortSignal);
    await tracker.shutdown();
  });

  it("lock orders are bounded: per-request lock names inside a global lock do not grow the order graph without end", async () => {
    resetLockOrder();
    const global = new Mutex({ name: "global" });
    const { found } = await collecting(async () => {
      for (let i = 0; i < MAX_LOCK_ORDERS + 200; i++) {
        const perUser = new Mutex({ name: `user-${i}` });
        await global.runExclusive(() => perUser.runExclusive(() => {}));
      }
    });
    assert.equal(lockOrderCount(), MAX_LOCK_ORDERS);
    assert.deepEqual(
      found.filter((d) => d.rule === "lock-order-inversion"),
      [],
    );
    resetLockOrder();
  });

  it("with guards installed, Promise.reject(42) still ends the process with Node's ERR_UNHANDLED_REJECTION", () => {
    const fixture = fileURLToPath(new URL("./fixtures/reject-42.ts", import.meta.url));
    const r = spawnSync(process.execPath, ["--import", "tsx", fixture], { encoding: "utf8", env: { ...process.env, ASYNCDOCTOR: "debug" } });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /ERR_UNHANDLED_REJECTION/);
    assert.match(r.stderr, /The promise rejected with the reason "42"/);
    assert.doesNotMatch(r.stderr, /at unhandledRejectionError|at rethrowLikeNode/, "the stack does not start inside the guard");
  });

  it("a withTimeout that expires takes its queued acquires out of the queues: no permit is taken later and leaked", async () => {
    const s = new Semaphore(2, { name: "two" });
    const a = await s.acquire();
    const b = await s.acquire();
    const err = await withTimeout(async () => {
      const lease = await s.acquire(); // queued: both permits are out
      lease.release();
    }, 10).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError);
    assert.equal(s.waiting, 0, "the expired operation's wait left the queue");
    a.release();
    b.release();
    await tick();
    assert.equal(s.available, 2, "no permit leaked");
  });
});
