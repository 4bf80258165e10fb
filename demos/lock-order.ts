/**
 * Seed 2.2 (lock deadlock): two coroutines take two locks in opposite orders. Without
 * detection both wait for ever. asyncdoctor rejects the acquire that closes the cycle, and
 * reports the inverted order as a potential deadlock even in a run where timing hid it.
 */
import { DeadlockError, lockAll, Mutex } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";
import { cutAfter, naiveSemaphore, pause } from "./naive-lock.js";
import type { Exclusive } from "./naive-lock.js";

/** The bug, part 1: takes lock a, then lock b. */
async function bugCoroutine1(lockA: Exclusive, lockB: Exclusive): Promise<string> {
  return lockA.runExclusive(async () => {
    await pause(10);
    return lockB.runExclusive(async () => "coroutine_1 done");
  });
}

/** The bug, part 2: takes lock b, then lock a. */
async function bugCoroutine2(lockA: Exclusive, lockB: Exclusive): Promise<string> {
  return lockB.runExclusive(async () => {
    await pause(10);
    return lockA.runExclusive(async () => "coroutine_2 done");
  });
}

/** The fix: both take a before b (lockAll does it in one canonical order). */
async function fixedCoroutine1(lockA: Mutex, lockB: Mutex): Promise<string> {
  return lockAll([lockA, lockB], async () => {
    await pause(10);
    return "coroutine_1 done";
  });
}

async function fixedCoroutine2(lockA: Mutex, lockB: Mutex): Promise<string> {
  return lockAll([lockB, lockA], async () => {
    await pause(10);
    return "coroutine_2 done";
  });
}

export const lockOrder: Demo = {
  name: "lock-order",
  title: "two locks taken in opposite orders: hangs, vs the cycle rejected and the order reported",
  seed: "2.2",
  async run(out) {
    out.section("the bug: opposite lock orders without detection (cut after 100 ms)");
    const a0 = naiveSemaphore(1);
    const b0 = naiveSemaphore(1);
    const outcome = await cutAfter(Promise.all([bugCoroutine1(a0, b0), bugCoroutine2(a0, b0)]), 100);
    out.log(`after 100 ms: ${outcome}. Each coroutine holds one lock and waits for the other, for ever`);

    out.section("asyncdoctor's report: the same code on asyncdoctor's Mutex, in debug mode (asyncdoctor run)");
    const { found: bug } = await collect(
      async () => {
        const lockA = new Mutex({ name: "lock_a", captureSites: true });
        const lockB = new Mutex({ name: "lock_b", captureSites: true });
        const results = await Promise.allSettled([bugCoroutine1(lockA, lockB), bugCoroutine2(lockA, lockB)]);
        for (const r of results) {
          if (r.status === "fulfilled") out.log(`${r.value}`);
          else if (r.reason instanceof DeadlockError) out.log(`rejected with ${r.reason.name} (kind "${r.reason.kind}"): the other coroutine went on`);
          else throw r.reason;
        }
        out.log("and when timing hides the deadlock (the two run one after the other), the inverted order is still reported:");
        const accounts = new Mutex({ name: "accounts", captureSites: true });
        const audit = new Mutex({ name: "audit", captureSites: true });
        await bugCoroutine1(accounts, audit);
        await bugCoroutine2(accounts, audit);
      },
      { mode: "debug" },
    );
    for (const d of bug) out.diagnosis(d);

    out.section("the fix: one canonical order (lockAll)");
    const { found: fixed } = await collect(async () => {
      const lockA = new Mutex({ name: "lock_a (fixed)" });
      const lockB = new Mutex({ name: "lock_b (fixed)" });
      const done = await Promise.all([fixedCoroutine1(lockA, lockB), fixedCoroutine2(lockA, lockB)]);
      out.log(`${done.join(", ")}; reports: 0 expected`);
    });
    return { bug, fixed };
  },
};
