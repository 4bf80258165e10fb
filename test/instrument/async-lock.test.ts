import "../sync/with-await-graph.js";
// async-lock instrumented at load: the user's own lock, unchanged, reports a holder that asks
// for a key it holds and keys taken in opposite orders, under the variable's name and the key,
// and behaves as async-lock alone does, side by side.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { configure } from "../../src/core/config.js";
import { DeadlockError } from "../../src/core/errors.js";
import { installInstrumentations } from "../../src/instrument/index.js";
import type { InstalledInstrumentations } from "../../src/instrument/index.js";

const DEADLOCK_RULES = new Set(["deadlock-reentrant", "deadlock-cycle", "pool-exhaustion", "lock-order-inversion", "database-deadlock"]);
import { barrier, collecting, deferred } from "../tasks/helpers.js";

/** The part of async-lock's API the tests use (the package ships no types). */
interface AsyncLock {
  acquire<T>(key: string | string[], fn: () => T | Promise<T>, opts?: Record<string, unknown>): Promise<T>;
  acquire<T>(
    key: string | string[],
    fn: (done: (err?: unknown, ret?: T) => void) => void,
    cb: (err: unknown, ret?: T) => void,
    opts?: Record<string, unknown>,
  ): void;
  isBusy(key?: string): boolean;
}
type AsyncLockClass = new (opts?: Record<string, unknown>) => AsyncLock;
const require = createRequire(import.meta.url);

/** What a program sees of async-lock: order, results, errors, callbacks, isBusy, its limits. */
async function transcript(Lock: AsyncLockClass): Promise<unknown[]> {
  const log: unknown[] = [];
  const lock = new Lock();
  const order: string[] = [];
  const gate = deferred();
  const first = lock.acquire("a", async () => {
    order.push("a1");
    await gate.promise;
    return 1;
  });
  const second = lock.acquire("a", () => {
    order.push("a2");
    throw new Error("a2 failed");
  });
  const other = lock.acquire("b", () => (order.push("b1"), "b"));
  log.push(["busy", lock.isBusy("a"), lock.isBusy("c"), lock.isBusy()]);
  log.push(["other key first", await other]);
  gate.resolve();
  log.push([
    "results",
    await Promise.allSettled([first, second]).then((rs) => rs.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))),
  ]);
  log.push(["order", order]);
  log.push(["idle", lock.isBusy()]);
  // callback mode
  log.push([
    "callback",
    await new Promise((resolve) =>
      lock.acquire<string>(
        "a",
        (done) => done(undefined, "cb result"),
        (err, ret) => resolve([err ?? null, ret]),
      ),
    ),
  ]);
  // a batch of keys
  log.push(["batch", await lock.acquire(["x", "y"], () => "both")]);
  // its queue timeout and maxPending
  const limited = new Lock({ timeout: 20, maxPending: 1 });
  const hold = deferred();
  const holding = limited.acquire("k", () => hold.promise);
  const queued = limited.acquire("k", () => "queued").catch((e: unknown) => (e as Error).message);
  const refused = await limited.acquire("k", () => "refused").catch((e: unknown) => (e as Error).message);
  log.push(["max pending", refused]);
  log.push(["timeout", await queued]);
  hold.resolve();
  await holding;
  log.push([
    "fn not a function",
    (() => {
      try {
        void lock.acquire("a", 42 as never); // throws synchronously on a non-function
        return "accepted";
      } catch (e) {
        return (e as Error).message;
      }
    })(),
  ]);
  return log;
}

describe("async-lock instrumented at load", () => {
  let Lock: AsyncLockClass;
  let installed: InstalledInstrumentations;
  before(() => {
    installed = installInstrumentations({ libraries: ["async-lock"] });
    Lock = require("async-lock") as AsyncLockClass;
    configure({ mode: "debug" });
  });
  after(() => {
    configure({ mode: "production" });
    installed.uninstall();
  });

  it("side by side with async-lock alone: the same order, results, errors, callbacks and limits", async () => {
    const { result: instrumented, found } = await collecting(() => transcript(Lock));
    // a correct program: no deadlock of any kind is reported on it
    assert.deepEqual(
      found.filter((d) => DEADLOCK_RULES.has(d.rule)).map((d) => d.summary),
      [],
    );
    installed.uninstall();
    let plain: unknown[];
    try {
      plain = await transcript(Lock);
    } finally {
      installed = installInstrumentations({ libraries: ["async-lock"] });
    }
    assert.deepEqual(instrumented, plain);
    assert.deepEqual(instrumented[0], ["busy", true, false, true]);
    assert.deepEqual(
      instrumented.find((x) => Array.isArray(x) && x[0] === "timeout"),
      ["timeout", "async-lock timed out in queue k"],
    );
    assert.deepEqual(
      instrumented.find((x) => Array.isArray(x) && x[0] === "max pending"),
      ["max pending", "Too many pending tasks in queue k"],
    );
  });

  it("a holder that asks for the key it holds: proven deadlock-reentrant, named after the variable and the key", async () => {
    const userLocks = new Lock();
    const { result, found } = await collecting(() => userLocks.acquire("user-1", () => userLocks.acquire("user-1", () => "inner")).catch((e: unknown) => e));
    assert.ok(result instanceof DeadlockError, String(result));
    const d = found.find((x) => x.certainty === "proven");
    assert.ok(d);
    assert.match(d.summary, /userLocks \(test\/instrument\/async-lock\.test\.ts:\d+\) key \\?"user-1\\?"/);
  });

  it("two keys taken in opposite orders: proven deadlock-cycle", async () => {
    const rows = new Lock();
    const both = barrier(2);
    const { result, found } = await collecting(() =>
      Promise.allSettled([
        rows.acquire("a", async () => {
          await both();
          return rows.acquire("b", () => "a then b");
        }),
        rows.acquire("b", async () => {
          await both();
          return rows.acquire("a", () => "b then a");
        }),
      ]),
    );
    assert.equal(result.filter((r) => r.status === "rejected").length, 1);
    assert.ok(
      found.some((x) => x.rule === "deadlock-cycle" && x.certainty === "proven"),
      found.map((x) => x.rule).join(", "),
    );
  });

  it("correct use is silent: many keys at once, one key in turn, batches in one order", async () => {
    const locks = new Lock();
    const { result, found } = await collecting(async () => {
      const out = await Promise.all(["a", "b", "c", "a", "b"].map((k, i) => locks.acquire(k, async () => `${k}${i}`)));
      out.push(...(await Promise.all([locks.acquire(["a", "b"], () => "ab"), locks.acquire(["a", "b"], () => "ab again")])));
      return out;
    });
    assert.deepEqual(result, ["a0", "b1", "c2", "a3", "b4", "ab", "ab again"]);
    assert.deepEqual(
      found.map((x) => x.rule),
      [],
    );
  });
});
