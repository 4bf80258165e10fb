import "../sync/with-await-graph.js";
// async-mutex instrumented at load: the user's own Mutex and Semaphore, unchanged, feed the
// wait-for graph (re-entrance, cycles, exhaustion reported under the variable's name), and
// everything async-mutex does is the same as without instrumentation, side by side.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { configure } from "../../src/core/config.js";
import { DeadlockError } from "../../src/core/errors.js";
import { installInstrumentations } from "../../src/instrument/index.js";
import type { InstalledInstrumentations } from "../../src/instrument/index.js";

const DEADLOCK_RULES = new Set(["deadlock-reentrant", "deadlock-cycle", "pool-exhaustion", "lock-order-inversion", "database-deadlock"]);
import { barrier, collecting, deferred } from "../tasks/helpers.js";

type AsyncMutex = typeof import("async-mutex");

/** Everything a program can observe of async-mutex's Mutex and Semaphore, as an ordered log. */
async function transcript(am: AsyncMutex): Promise<unknown[]> {
  const log: unknown[] = [];
  const m = new am.Mutex();
  // FIFO, results, errors
  const first = m.runExclusive(async () => {
    log.push(["locked inside", m.isLocked()]);
    await Promise.resolve();
    return "a";
  });
  const second = m.runExclusive(() => {
    throw new Error("boom");
  });
  const third = m.runExclusive(() => "c");
  log.push(["queued", m.isLocked()]);
  log.push([
    "results",
    await Promise.allSettled([first, second, third]).then((rs) => rs.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))),
  ]);
  log.push(["after", m.isLocked()]);
  // acquire / releaser / release()
  const release = await m.acquire();
  log.push(["acquired", m.isLocked()]);
  const waiting = m.acquire().then((r) => {
    log.push("second acquire granted");
    return r;
  });
  const unlocked = m.waitForUnlock().then(() => log.push(["unlock waiter", m.isLocked()]));
  release();
  release(); // a second call of a releaser does nothing
  const r2 = await waiting;
  log.push(["handed over", m.isLocked()]);
  m.release(); // release() without the releaser unlocks too
  log.push(["released by hand", m.isLocked()]);
  await unlocked;
  r2(); // already released by hand: nothing
  // cancel: queued waiters reject with async-mutex's error (the default, or the one given)
  const own = new Error("cancelled by us");
  for (const [mutex, expected] of [
    [new am.Mutex(), am.E_CANCELED],
    [new am.Mutex(own), own],
  ] as const) {
    const held = await mutex.acquire();
    const a = mutex.acquire().catch((e: unknown) => e);
    const b = mutex.runExclusive(() => "never").catch((e: unknown) => e);
    mutex.cancel();
    const [ea, eb] = await Promise.all([a, b]);
    log.push(["cancelled", ea === expected, eb === expected]);
    held();
    log.push(["after cancel", mutex.isLocked()]);
  }
  // tryAcquire
  const busy = new am.Mutex();
  const hold = await busy.acquire();
  log.push([
    "tryAcquire busy",
    await am
      .tryAcquire(busy)
      .acquire()
      .catch((e: unknown) => e === am.E_ALREADY_LOCKED),
  ]);
  hold();
  const free = await am.tryAcquire(busy).acquire();
  log.push(["tryAcquire free", busy.isLocked()]);
  free();
  // Semaphore: values, weights, order, release by hand, setValue, bad weights
  const s = new am.Semaphore(3);
  const [v1, rel1] = await s.acquire();
  log.push(["sem acquire", v1, s.getValue(), s.isLocked()]);
  const [v2, rel2] = await s.acquire(2);
  log.push(["sem weighted", v2, s.getValue(), s.isLocked()]);
  const order: string[] = [];
  const w3 = s.runExclusive(async (v) => order.push(`3:${v}`), 3);
  const w1 = s.runExclusive(async (v) => order.push(`1:${v}`));
  rel1();
  rel2();
  await Promise.all([w3, w1]);
  log.push(["sem order", order, s.getValue()]);
  let syncThrow: unknown;
  try {
    void s.acquire(0);
  } catch (e) {
    syncThrow = (e as Error).message;
  }
  log.push(["bad weight", syncThrow]);
  const [, relA] = await s.acquire();
  s.release();
  log.push(["sem release by hand", s.getValue()]);
  relA(); // its permit was given back by hand already: the value grows, as in async-mutex
  log.push(["sem over-release", s.getValue()]);
  s.setValue(1);
  const [vAfter, relAfter] = await s.acquire();
  log.push(["setValue", vAfter, s.getValue()]);
  relAfter();
  // withTimeout: its own error, a custom one, and the late grant released again
  const tm = new am.Mutex();
  const holding = await tm.acquire();
  const e1 = await am
    .withTimeout(tm, 15)
    .acquire()
    .catch((e: unknown) => e);
  const custom = new Error("too slow");
  const e2 = await am
    .withTimeout(tm, 15, custom)
    .runExclusive(() => "never")
    .catch((e: unknown) => e);
  log.push(["withTimeout", e1 === am.E_TIMEOUT, e2 === custom]);
  holding();
  const afterTimeouts = await am.withTimeout(tm, 1000).acquire();
  log.push(["withTimeout after", tm.isLocked()]);
  afterTimeouts();
  log.push(["all free", tm.isLocked(), m.isLocked(), s.isLocked()]);
  return log;
}

describe("async-mutex instrumented at load", () => {
  let am: AsyncMutex;
  let installed: InstalledInstrumentations;
  before(async () => {
    installed = installInstrumentations({ libraries: ["async-mutex"] });
    am = await import("async-mutex");
    configure({ mode: "debug" });
  });
  after(() => {
    configure({ mode: "production" });
    installed.uninstall();
  });

  it("side by side with async-mutex alone: the same order, values, errors, cancel, withTimeout", async () => {
    const { result: instrumented, found } = await collecting(() => transcript(am));
    // a correct program: no deadlock of any kind is reported on it
    assert.deepEqual(
      found.filter((d) => DEADLOCK_RULES.has(d.rule)).map((d) => d.summary),
      [],
    );
    installed.uninstall();
    let plain: unknown[];
    try {
      plain = await transcript(am);
    } finally {
      installed = installInstrumentations({ libraries: ["async-mutex"] });
    }
    assert.deepEqual(instrumented, plain);
    assert.deepEqual(
      instrumented.find((x) => Array.isArray(x) && x[0] === "results"),
      ["results", ["a", "boom", "c"]],
    );
    assert.deepEqual(
      instrumented.find((x) => Array.isArray(x) && x[0] === "sem order"),
      ["sem order", ["3:3", "1:3"], 3],
    );
  });

  it("the CommonJS build (require) is instrumented too", async () => {
    const { createRequire } = await import("node:module");
    const cjs = createRequire(import.meta.url)("async-mutex") as AsyncMutex;
    const ledger = new cjs.Mutex();
    const err = await ledger.runExclusive(() => ledger.runExclusive(() => 1)).catch((e: unknown) => e);
    assert.ok(err instanceof DeadlockError, String(err));
    assert.match(err.message, /ledger \(test\/instrument\/async-mutex\.test\.ts:\d+\)/);
  });

  it("runExclusive on the lock the task already holds: proven deadlock-reentrant, named after the variable", async () => {
    const accounts = new am.Mutex();
    const { result, found } = await collecting(() => accounts.runExclusive(() => accounts.runExclusive(() => "inner")).catch((e: unknown) => e));
    assert.ok(result instanceof DeadlockError, String(result));
    assert.equal(result.kind, "reentrant");
    const d = found.find((x) => x.rule === "deadlock-reentrant");
    assert.ok(d);
    assert.equal(d.certainty, "proven");
    assert.match(d.summary, /mutex "accounts \(test\/instrument\/async-mutex\.test\.ts:\d+\)"/);
    assert.equal(accounts.isLocked(), false, "the lock is free again");
  });

  it("two locks taken in opposite orders: proven deadlock-cycle naming both", async () => {
    const orders = new am.Mutex(),
      stock = new am.Mutex();
    const both = barrier(2);
    const { result, found } = await collecting(() =>
      Promise.allSettled([
        orders.runExclusive(async () => {
          await both();
          return stock.runExclusive(() => "orders then stock");
        }),
        stock.runExclusive(async () => {
          await both();
          return orders.runExclusive(() => "stock then orders");
        }),
      ]),
    );
    const rejected = result.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(rejected.length, 1, "one side is rejected, the other then runs");
    assert.ok(rejected[0]!.reason instanceof DeadlockError);
    const d = found.find((x) => x.rule === "deadlock-cycle");
    assert.ok(d, found.map((x) => x.rule).join(", "));
    assert.match(d.summary, /orders \(test\/instrument/);
    assert.match(d.summary, /stock \(test\/instrument/);
  });

  it("every permit of a Semaphore held by tasks that ask it again: pool-exhaustion", async () => {
    const workers = new am.Semaphore(2);
    const both = barrier(2);
    const { result, found } = await collecting(() =>
      Promise.allSettled(
        [0, 1].map((i) =>
          workers.runExclusive(async () => {
            await both();
            return workers.runExclusive(() => i);
          }),
        ),
      ),
    );
    assert.equal(result.filter((r) => r.status === "rejected").length, 1);
    const d = found.find((x) => x.rule === "pool-exhaustion" && x.certainty === "proven");
    assert.ok(d, found.map((x) => `${x.certainty} ${x.rule}`).join(", "));
    assert.match(d.summary, /workers \(test\/instrument\/async-mutex\.test\.ts:\d+\)/);
  });

  it("correct use is silent: sequential and concurrent sections, nested locks in one order, a Semaphore under its size", async () => {
    const a = new am.Mutex(),
      b = new am.Mutex();
    const slots = new am.Semaphore(3);
    const { result, found } = await collecting(async () => {
      const out: number[] = [];
      for (let i = 0; i < 3; i++) out.push(await a.runExclusive(() => i));
      await Promise.all([0, 1, 2, 3].map((i) => a.runExclusive(() => b.runExclusive(async () => out.push(10 + i)))));
      await Promise.all([0, 1, 2, 3, 4].map((i) => slots.runExclusive(async () => out.push(20 + i))));
      const release = await a.acquire();
      release();
      return out;
    });
    assert.deepEqual(result, [0, 1, 2, 10, 11, 12, 13, 20, 21, 22, 23, 24]);
    assert.deepEqual(
      found.map((x) => x.rule),
      [],
    );
  });

  it("a lock taken inside a section by a follow-up that is not awaited is no deadlock: it runs after", async () => {
    const jobs = new am.Mutex();
    const done = deferred<string>();
    const { result, found } = await collecting(async () => {
      await jobs.runExclusive(() => {
        // started, not awaited: it waits for the section to end, and the section does not wait for it
        void jobs.runExclusive(() => done.resolve("follow-up ran"));
      });
      return done.promise;
    });
    assert.equal(result, "follow-up ran");
    assert.deepEqual(
      found.map((x) => x.rule),
      [],
    );
  });

  it("tryAcquire on a held lock fails at once with async-mutex's error, and nothing is reported", async () => {
    const cache = new am.Mutex();
    const { result, found } = await collecting(async () => {
      const release = await cache.acquire();
      const refused = await am
        .tryAcquire(cache)
        .acquire()
        .then(
          () => "acquired",
          (e: unknown) => e === am.E_ALREADY_LOCKED,
        );
      release();
      return refused;
    });
    assert.equal(result, true);
    assert.deepEqual(
      found.map((x) => x.rule),
      [],
    );
  });

  it("priorities pass straight through to async-mutex (its priority order is kept)", async () => {
    const m = new am.Mutex();
    const hold = await m.acquire();
    const order: string[] = [];
    const low = m.runExclusive(() => order.push("low"), 0);
    const high = m.runExclusive(() => order.push("high"), 5);
    hold();
    await Promise.all([low, high]);
    assert.deepEqual(order, ["high", "low"]);
  });
});
