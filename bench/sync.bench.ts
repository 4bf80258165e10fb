// Mutex/Semaphore against async-mutex and p-limit, side by side, detection on. async-mutex is
// measured in both of its builds: its CommonJS build (what `require` loads) is about twice as
// fast as its ESM build, so the CommonJS one is the figure that counts.
import { createRequire } from "node:module";
import { Mutex as PeerMutexEsm } from "async-mutex";
import pLimit from "p-limit";
import { configure, Mutex } from "../src/index.js";
import { compare, figure } from "./harness.js";

const { Mutex: PeerMutex } = createRequire(import.meta.url)("async-mutex") as typeof import("async-mutex");

const noop = async () => {};

async function contended(run: (fn: () => Promise<void>) => Promise<void>): Promise<void> {
  const tasks: Promise<void>[] = [];
  for (let t = 0; t < 100; t++) {
    tasks.push(
      (async () => {
        for (let i = 0; i < 1000; i++) {
          await run(async () => {
            await Promise.resolve();
          });
        }
      })(),
    );
  }
  await Promise.all(tasks);
}

const ours = new Mutex({ name: "bench" });
const peer = new PeerMutex();
const peerEsm = new PeerMutexEsm();
const limit = pLimit(1);

console.log("# production mode (detection on)");
await compare([
  {
    label: "uncontended runExclusive(async no-op)",
    ours: () => ours.runExclusive(noop),
    peer: () => peer.runExclusive(noop),
    peerName: "async-mutex (CommonJS build)",
    target: 0.3,
  },
  {
    label: "uncontended runExclusive(async no-op)",
    ours: () => ours.runExclusive(noop),
    peer: () => peerEsm.runExclusive(noop),
    peerName: "async-mutex (ESM build)",
  },
  { label: "uncontended runExclusive(async no-op)", ours: () => ours.runExclusive(noop), peer: () => limit(noop), peerName: "p-limit(1)", target: 0.35 },
]);
await compare(
  [
    {
      label: "contended 100 tasks x 1,000 cycles around an await",
      ours: () => contended((fn) => ours.runExclusive(fn)),
      peer: () => contended((fn) => peer.runExclusive(fn)),
      peerName: "async-mutex (CommonJS build)",
      target: 0.6,
    },
    {
      label: "contended 100 tasks x 1,000 cycles around an await",
      ours: () => contended((fn) => ours.runExclusive(fn)),
      peer: () => contended((fn) => peerEsm.runExclusive(fn)),
      peerName: "async-mutex (ESM build)",
    },
  ],
  { time: 1500 },
);

// Per-request lock names inside a global lock: the lock-order graph is bounded and keeps no frames.
{
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    const global = new Mutex({ name: "global" });
    for (let i = 0; i < 2000; i++) await global.runExclusive(() => new Mutex({ name: `warm-${i}` }).runExclusive(noop));
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100_000; i++) {
      const perUser = new Mutex({ name: `user-${i}` });
      await global.runExclusive(() => perUser.runExclusive(noop));
      // requests arrive as macrotasks: V8 keeps what a WeakRef points to until the job ends, so
      // one unbroken chain of 100,000 microtasks would keep every lock of it alive
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setImmediate(r));
    gc();
    await new Promise((r) => setImmediate(r)); // the finalizers of the live-primitive registry run here
    gc();
    const grown = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    figure(
      "memory: 100,000 per-request locks taken inside a global lock",
      `${grown.toFixed(2)} MB heap growth (target <= 1 MB: ${grown <= 1 ? "met" : "NOT met"})`,
    );
  }
}

// Debug mode captures a stack per promise: one interleaved run of each is enough to report.
async function timed(fn: () => Promise<unknown>, n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t) / n;
}
configure({ mode: "debug" });
console.log("\n# debug mode (detection on, stacks everywhere)");
{
  const dOurs = new Mutex({ name: "bench-debug" });
  let o = 0;
  let p = 0;
  for (let round = 0; round < 2; round++) {
    p += await timed(() => peer.runExclusive(noop), 2000);
    o += await timed(() => dOurs.runExclusive(noop), 2000);
  }
  figure(
    "debug: uncontended runExclusive(async no-op)",
    `${(o / p).toFixed(2)}x async-mutex [ours ${((o * 1000) / 2).toFixed(2)} µs, async-mutex ${((p * 1000) / 2).toFixed(2)} µs per op]`,
  );
  const small = async (run: (fn: () => Promise<void>) => Promise<void>) => {
    const tasks: Promise<void>[] = [];
    for (let t = 0; t < 100; t++)
      tasks.push(
        (async () => {
          for (let i = 0; i < 20; i++)
            await run(async () => {
              await Promise.resolve();
            });
        })(),
      );
    await Promise.all(tasks);
  };
  const pc = await timed(() => small((fn) => peer.runExclusive(fn)), 1);
  const oc = await timed(() => small((fn) => dOurs.runExclusive(fn)), 1);
  figure(
    "debug: contended 100 tasks x 20 cycles around an await",
    `${(oc / pc).toFixed(2)}x async-mutex [ours ${oc.toFixed(1)} ms, async-mutex ${pc.toFixed(1)} ms]`,
  );
}
configure({ mode: "production" });

// Scale: 10,000 tasks blocking on 1,000 held locks. A waiter that holds a lock of its own makes
// the detector search for a holder that can still release; one that holds nothing skips the
// search. "flat": the holders are busy (not waiting), so the search stops at the first one.
// "chained": the holder of L[k] itself waits for L[k-1] (only L[0]'s holder is free), so a
// search walks k locks: the worst case, 500 locks on average.
async function scale(nLocks: number, nWaiters: number, waiterHolds: boolean, chained: boolean): Promise<number> {
  const locks = Array.from({ length: nLocks }, (_, i) => new Mutex({ name: `L${i}` }));
  const gates: Array<() => void> = [];
  const holders = locks.map((l, k) =>
    l.runExclusive(async () => {
      await new Promise<void>((r) => gates.push(r));
      if (chained && k > 0) await locks[k - 1]!.runExclusive(noop);
    }),
  );
  if (chained) {
    for (let k = 1; k < nLocks; k++) gates[k]!();
    await new Promise((r) => setImmediate(r));
  }
  // one lock class for the waiters' own locks, as per-entity locks made on one line are
  const own = waiterHolds ? Array.from({ length: nWaiters }, () => new Mutex({ name: "entity" })) : [];
  const waiters: Promise<unknown>[] = [];
  const t0 = performance.now();
  for (let t = 0; t < nWaiters; t++) {
    const target = locks[t % nLocks]!;
    waiters.push(waiterHolds ? own[t]!.runExclusive(() => target.runExclusive(noop)) : target.runExclusive(noop));
  }
  const perAcquire = (performance.now() - t0) / nWaiters;
  if (chained) gates[0]!();
  else for (const g of gates) g();
  await Promise.all([...holders, ...waiters]);
  return perAcquire;
}
for (const chained of [false, true]) {
  await scale(100, 1000, true, chained); // warm-up
  await scale(100, 1000, false, chained);
}
const us = (ms: number) => `${(ms * 1000).toFixed(2)} µs per blocked acquire`;
const flatSearch = await scale(1000, 10_000, true, false);
const flatNone = await scale(1000, 10_000, false, false);
const chainSearch = await scale(1000, 10_000, true, true);
const chainNone = await scale(1000, 10_000, false, true);
figure("scale, 10,000 waiters on 1,000 locks, flat: waiter holds a lock (search runs)", us(flatSearch));
figure("scale, flat: waiter holds nothing (no search)", us(flatNone));
figure("scale, chained holders (worst case, 500-lock search on average): waiter holds a lock", us(chainSearch));
figure("scale, chained holders: waiter holds nothing", us(chainNone));
