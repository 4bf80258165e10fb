import "../sync/with-await-graph.js";
// The compat layer behaves as async-mutex 0.5 does: each scenario runs against both.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as peer from "async-mutex";
import * as ours from "../../src/compat/async-mutex.js";
import { DeadlockError } from "../../src/core/errors.js";
import { collecting, tick } from "../helpers.js";
import { E_CANCELED, Mutex, Semaphore } from "../../src/compat/async-mutex.js";
import type { MutexInterface, SemaphoreInterface } from "../../src/compat/async-mutex.js";

const am = peer;

type Lib = typeof ours;
const libs: Array<[string, Lib]> = [
  ["async-mutex", peer as unknown as Lib],
  ["compat", ours],
];

for (const [label, lib] of libs) {
  describe(`${label}: async-mutex behaviour`, () => {
    it("Mutex: FIFO, releaser idempotent, isLocked, release()", async () => {
      const m = new lib.Mutex();
      const order: number[] = [];
      const r1 = await m.acquire();
      const p = [1, 2].map((i) =>
        m.runExclusive(() => {
          order.push(i);
        }),
      );
      assert.equal(m.isLocked(), true);
      r1();
      r1();
      await Promise.all(p);
      assert.deepEqual(order, [1, 2]);
      assert.equal(m.isLocked(), false);
      await m.acquire();
      m.release();
      assert.equal(m.isLocked(), false);
    });

    it("Semaphore: values, weights, setValue, release(weight)", async () => {
      const s = new lib.Semaphore(3);
      const [v1, rel1] = await s.acquire(2);
      assert.equal(v1, 3);
      assert.equal(s.getValue(), 1);
      const pending = s.acquire(2);
      rel1();
      const [v2, rel2] = await pending;
      assert.equal(v2, 3);
      rel2();
      s.setValue(5);
      assert.equal(s.getValue(), 5);
      assert.throws(() => s.acquire(0), /invalid weight 0: must be positive/);
      const zero = new lib.Semaphore(0);
      assert.equal(zero.isLocked(), true);
      const waiting = zero.acquire();
      zero.release();
      const [v] = await waiting;
      assert.equal(v, 1);
      assert.equal(await s.runExclusive((value) => value, 2), 5);
    });

    it("cancel() rejects waiters with E_CANCELED (or the given error)", async () => {
      const m = new lib.Mutex();
      const release = await m.acquire();
      const w = m.acquire();
      m.cancel();
      await assert.rejects(w, (e: unknown) => e === lib.E_CANCELED);
      release();
      const custom = new Error("custom");
      const s = new lib.Semaphore(1, custom);
      const [, r] = await s.acquire();
      const w2 = s.acquire();
      s.cancel();
      await assert.rejects(w2, (e: unknown) => e === custom);
      r();
    });

    it("withTimeout rejects with E_TIMEOUT, and the lock is free afterwards", async () => {
      const m = new lib.Mutex();
      const timed = lib.withTimeout(m, 10);
      const release = await m.acquire();
      await assert.rejects(timed.acquire(), (e: unknown) => e === lib.E_TIMEOUT);
      await assert.rejects(
        timed.runExclusive(() => 1),
        (e: unknown) => e === lib.E_TIMEOUT,
      );
      release();
      await tick();
      assert.equal(m.isLocked(), false);
      assert.equal(await timed.runExclusive(() => 2), 2);
    });

    it("tryAcquire rejects with E_ALREADY_LOCKED when it would wait", async () => {
      const s = new lib.Semaphore(1);
      const [, release] = await lib.tryAcquire(s).acquire();
      await assert.rejects(lib.tryAcquire(s).acquire(), (e: unknown) => e === lib.E_ALREADY_LOCKED);
      release();
      assert.equal(await lib.tryAcquire(new lib.Mutex()).runExclusive(() => 3), 3);
    });

    it("waitForUnlock resolves once the lock is free, without taking it", async () => {
      const m = new lib.Mutex();
      const release = await m.acquire();
      let unlocked = false;
      const w = m.waitForUnlock().then(() => {
        unlocked = true;
      });
      await tick();
      assert.equal(unlocked, false);
      release();
      await w;
      assert.equal(m.isLocked(), false);
    });

    it("priority: a higher-priority waiter goes first", async () => {
      const m = new lib.Mutex();
      const release = await m.acquire();
      const order: string[] = [];
      const low = m.runExclusive(() => {
        order.push("low");
      }, 0);
      const high = m.runExclusive(() => {
        order.push("high");
      }, 5);
      release();
      await Promise.all([low, high]);
      assert.deepEqual(order, ["high", "low"]);
    });
  });
}

describe("compat: what async-mutex would hang on", () => {
  it("a nested runExclusive rejects with DeadlockError", async () => {
    const m = new ours.Mutex();
    await collecting(async () => {
      await assert.rejects(
        m.runExclusive(() => m.runExclusive(() => 1)),
        (e: unknown) => e instanceof DeadlockError && e.kind === "reentrant",
      );
    });
    assert.equal(m.isLocked(), false);
  });

  it("stays silent on ordinary use", async () => {
    const m = new ours.Mutex();
    const { found } = await collecting(async () => {
      await Promise.all(
        [1, 2, 3].map((i) =>
          m.runExclusive(async () => {
            await tick();
            return i;
          }),
        ),
      );
    });
    assert.deepEqual(found, []);
  });

  it("rejects a non-Mutex in withTimeout/tryAcquire", () => {
    assert.throws(() => ours.withTimeout({} as never, 10), TypeError);
    assert.throws(() => ours.tryAcquire(null as never), TypeError);
  });
});

describe("compat: async-mutex's behaviours that its own suite checks", () => {
  it("waitForUnlock(priority) wakes at the hand-off when its priority is above the next queued waiter's, as async-mutex does", async () => {
    for (const [M, label] of [
      [Mutex, "asyncdoctor"],
      [am.Mutex, "async-mutex"],
    ] as const) {
      const m = new M();
      const release = await m.acquire();
      const order: string[] = [];
      const queued = m.acquire(0).then((r) => {
        order.push("queued waiter got it");
        r();
      });
      const high = m.waitForUnlock(1).then(() => order.push("high-priority unlock waiter"));
      const same = m.waitForUnlock(0).then(() => order.push("same-priority unlock waiter"));
      release();
      await queued;
      await high;
      await same;
      assert.deepEqual(order.slice(0, 2), ["high-priority unlock waiter", "queued waiter got it"], label);
    }
  });

  it("a Semaphore rejects weights and values that would corrupt its count (NaN, '1', 1.5, Infinity)", () => {
    assert.throws(() => new Semaphore(Number.NaN), RangeError);
    assert.throws(() => new Semaphore("2" as unknown as number), TypeError);
    assert.throws(() => new Semaphore(1.5), RangeError);
    const s = new Semaphore(2);
    for (const w of [Number.NaN, 1.5, Infinity]) assert.throws(() => s.acquire(w), RangeError, String(w));
    assert.throws(() => s.acquire("1" as unknown as number), TypeError);
    assert.throws(() => s.acquire(0), /invalid weight 0: must be positive/, "async-mutex's own message for weights <= 0");
    assert.throws(() => s.acquire(1, Number.NaN), RangeError);
    assert.equal(s.getValue(), 2, "nothing taken");
  });

  it("the MutexInterface and SemaphoreInterface namespaces carry Releaser and Worker, as async-mutex's typings do", async () => {
    const release: MutexInterface.Releaser = () => {};
    const work: MutexInterface.Worker<number> = () => 1;
    const semWork: SemaphoreInterface.Worker<number> = (value) => value;
    const semRelease: SemaphoreInterface.Releaser = release;
    semRelease();
    assert.equal(await new Mutex().runExclusive(work), 1);
    assert.equal(await new Semaphore(3).runExclusive(semWork), 3);
  });

  it("cancel() rejects every waiter with E_CANCELED and leaves the holder in place; release() after it frees the lock", async () => {
    const m = new Mutex();
    const release = await m.acquire();
    const a = m.acquire().catch((e: unknown) => e);
    const b = m.runExclusive(() => 1).catch((e: unknown) => e);
    m.cancel();
    assert.equal(await a, E_CANCELED);
    assert.equal(await b, E_CANCELED);
    assert.equal(m.isLocked(), true);
    release();
    assert.equal(m.isLocked(), false);
  });
});
