import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Mutex } from "../../src/sync/mutex.js";
import { Semaphore } from "../../src/sync/semaphore.js";
import { RWLock } from "../../src/sync/rwlock.js";
import { ReleaseError } from "../../src/sync/lease.js";
import { AbortError, TimeoutError } from "../../src/core/errors.js";
import { currentTask } from "../../src/core/task.js";
import { snapshot } from "../../src/core/registry.js";
import { withTimeout } from "../../src/tasks/with-timeout.js";
import { spawn } from "../../src/tasks/default-tracker.js";
import { deferred } from "../helpers.js";

describe("Mutex", () => {
  it("serialises runExclusive callers in FIFO order", async () => {
    const m = new Mutex({ name: "fifo" });
    const order: number[] = [];
    const gate = deferred();
    const first = m.runExclusive(() => gate.promise.then(() => order.push(0)));
    const rest = [1, 2, 3].map((i) =>
      m.runExclusive(async () => {
        order.push(i);
      }),
    );
    assert.equal(m.waiting, 3);
    assert.equal(m.isLocked, true);
    gate.resolve();
    await Promise.all([first, ...rest]);
    assert.deepEqual(order, [0, 1, 2, 3]);
    assert.equal(m.isLocked, false);
  });

  it("runs the callback in a scope of its own, child of the caller", async () => {
    const m = new Mutex({ name: "scope" });
    const task = spawn(
      async () => {
        const outer = currentTask();
        const inner = await m.runExclusive(() => currentTask());
        return { outer, inner };
      },
      { name: "caller" },
    );
    const { outer, inner } = await task;
    assert.equal(inner?.kind, "scope");
    assert.equal(inner?.parent, outer);
    assert.equal(inner?.name, "caller");
  });

  it("returns the callback's value and releases after it throws", async () => {
    const m = new Mutex();
    assert.equal(await m.runExclusive(() => 7), 7);
    await assert.rejects(
      m.runExclusive(async () => {
        throw new Error("inside");
      }),
      /inside/,
    );
    assert.equal(m.isLocked, false);
  });

  it("acquire returns a Disposable lease; tryAcquire never waits", async () => {
    const m = new Mutex({ name: "lease" });
    {
      using lease = await m.acquire();
      assert.equal(lease.target, m);
      assert.equal(m.tryAcquire(), undefined);
    }
    const l = m.tryAcquire();
    assert.ok(l);
    m.release(l);
    assert.equal(m.isLocked, false);
  });

  it("is named after its construction site when no name is given", () => {
    const m = new Mutex();
    assert.match(m.name, /test\/sync\/mutex\.test\.ts:\d+$/);
  });

  describe("bad input", () => {
    it("release twice throws a ReleaseError", async () => {
      const lease = await new Mutex({ name: "twice" }).acquire();
      lease.release();
      assert.throws(
        () => lease.release(),
        (e: unknown) => e instanceof ReleaseError && /already released/.test(e.message),
      );
    });

    it("release through another lock's handle throws", async () => {
      const a = new Mutex({ name: "a" });
      const b = new Mutex({ name: "b" });
      const lease = await a.acquire();
      assert.throws(
        () => b.release(lease),
        (e: unknown) => e instanceof ReleaseError && /belongs to mutex "a", not to mutex "b"/.test(e.message),
      );
      assert.throws(() => b.release({} as never), TypeError);
      lease.release();
    });

    it("an already-aborted signal is rejected without acquiring", async () => {
      const m = new Mutex({ name: "aborted" });
      await assert.rejects(m.acquire({ signal: AbortSignal.abort() }), (e: unknown) => e instanceof AbortError && /already aborted/.test(e.message));
      assert.equal(m.isLocked, false);
    });

    it("a timeout <= 0 or NaN is a RangeError; a non-number a TypeError", async () => {
      const m = new Mutex();
      await assert.rejects(m.acquire({ timeout: 0 }), RangeError);
      await assert.rejects(m.acquire({ timeout: -5 }), RangeError);
      await assert.rejects(m.acquire({ timeout: NaN }), RangeError);
      await assert.rejects(m.acquire({ timeout: "1" as never }), TypeError);
      await assert.rejects(m.runExclusive("no" as never), TypeError);
      assert.throws(() => new Mutex({ name: 5 as never }), TypeError);
    });

    it("Semaphore(0), (-1), (1.5), (NaN) are RangeErrors, a string a TypeError", () => {
      for (const n of [0, -1, 1.5, NaN])
        assert.throws(
          () => new Semaphore(n),
          (e: unknown) => e instanceof RangeError && /permits/.test(e.message),
          String(n),
        );
      assert.throws(() => new Semaphore("2" as never), TypeError);
    });

    it("asking a semaphore for more permits than it has is a RangeError", async () => {
      const s = new Semaphore(2);
      await assert.rejects(s.acquire({ permits: 3 }), RangeError);
      await assert.rejects(s.acquire({ permits: 0 }), RangeError);
    });
  });

  describe("timeouts and aborts", () => {
    it("a timed-out waiter names the holder and never takes the permit later", async () => {
      const m = new Mutex({ name: "slow" });
      const gate = deferred();
      const holder = spawn(() => m.runExclusive(() => gate.promise), { name: "refresh" });
      const err = await m.acquire({ timeout: 10 }).catch((e: unknown) => e);
      assert.ok(err instanceof TimeoutError);
      assert.match(err.message, /mutex "slow" did not succeed within 10 ms: it is held by "refresh"/);
      assert.equal(m.waiting, 0);
      gate.resolve();
      await holder;
      assert.equal(m.isLocked, false, "the timed-out waiter took nothing");
    });

    it("a timeout says where a holder that is itself blocked waits now", async () => {
      const m = new Mutex({ name: "outer-lock" });
      const other = new Mutex({ name: "inner-lock", captureSites: true });
      const gate = deferred();
      const blocker = other.runExclusive(() => gate.promise);
      const holder = spawn(() => m.runExclusive(() => other.runExclusive(async () => {})), { name: "stuck-holder" });
      const err = await m.acquire({ timeout: 10 }).catch((e: unknown) => e);
      assert.ok(err instanceof TimeoutError);
      const h = err.diagnosis.subjects.find((s) => s.name === "stuck-holder");
      assert.match(h?.detail ?? "", /now waiting on mutex "inner-lock" at test\/sync\/mutex\.test\.ts:\d+:\d+/);
      gate.resolve();
      await Promise.all([blocker, holder]);
    });

    it("an aborted waiter leaves the queue and the next one gets the lock", async () => {
      const m = new Mutex({ name: "abort" });
      const first = await m.acquire();
      const c = new AbortController();
      const aborted = m.acquire({ signal: c.signal });
      const next = m.acquire();
      c.abort(new Error("stop"));
      await assert.rejects(aborted, (e: unknown) => e instanceof AbortError && (e.cause as Error).message === "stop");
      first.release();
      const l = await next;
      assert.equal(m.waiting, 0);
      l.release();
      assert.equal(m.isLocked, false);
    });

    it("withTimeout names the lock the operation waits on and its holder", async () => {
      const m = new Mutex({ name: "orders-cache" });
      const gate = deferred();
      const holder = spawn(() => m.runExclusive(() => gate.promise), { name: "refresh-cache" });
      const err = await withTimeout(() => m.runExclusive(async () => {}), 15, { name: "read-orders" }).catch((e: unknown) => e);
      assert.ok(err instanceof TimeoutError);
      assert.match(err.message, /waiting on mutex "orders-cache" held by task "refresh-cache"/);
      gate.resolve();
      await holder;
      await new Promise((r) => setImmediate(r));
    });
  });

  it("snapshot() lists holders and waiters under locks", async () => {
    const m = new Mutex({ name: "snap" });
    const gate = deferred();
    const held = spawn(() => m.runExclusive(() => gate.promise), { name: "holder-task" });
    const waiting = spawn(() => m.runExclusive(async () => {}), { name: "waiter-task" });
    const locks = snapshot().locks;
    const mine = locks.find((l) => l.name === "snap");
    assert.ok(mine);
    assert.equal(mine.kind, "mutex");
    assert.equal(mine.capacity, 1);
    assert.deepEqual(
      mine.holders.map((h) => h.taskName),
      ["holder-task"],
    );
    assert.deepEqual(
      mine.waiters.map((h) => h.taskName),
      ["waiter-task"],
    );
    const t = snapshot().tasks.find((x) => x.name === "waiter-task");
    assert.deepEqual(t?.waitingOn?.name, "snap");
    gate.resolve();
    await Promise.all([held, waiting]);
  });
});

describe("RWLock", () => {
  it("rejects bad input like the other primitives", async () => {
    const rw = new RWLock({ name: "bad" });
    await assert.rejects(rw.read("x" as never), TypeError);
    await assert.rejects(rw.acquireWrite({ timeout: 0 }), RangeError);
    await assert.rejects(rw.acquireRead({ signal: AbortSignal.abort() }), AbortError);
    const lease = await rw.acquireRead();
    assert.throws(() => new Mutex().release(lease), ReleaseError);
    rw.release(lease);
    assert.throws(() => lease.release(), ReleaseError);
  });

  it("lets readers share and a writer exclude, FIFO (a queued writer stops new readers)", async () => {
    const rw = new RWLock({ name: "rw" });
    const r1 = await rw.acquireRead();
    const r2 = await rw.acquireRead();
    assert.equal(rw.readers, 2);
    const w = rw.acquireWrite();
    assert.equal(rw.tryAcquireRead(), undefined, "a writer is queued");
    r1.release();
    r2.release();
    const wl = await w;
    assert.equal(rw.isWriteLocked, true);
    assert.equal(rw.tryAcquireRead(), undefined);
    wl.release();
    assert.equal(await rw.read(() => rw.readers), 1);
    assert.equal(await rw.write(() => rw.isWriteLocked), true);
  });
});
