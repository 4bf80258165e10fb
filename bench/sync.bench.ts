// Mutex/Semaphore against async-mutex and p-limit, side by side, detection on.
import { Mutex as PeerMutex } from "async-mutex";
import pLimit from "p-limit";
import { configure, Mutex, spawn } from "../src/index.js";
import { compare, figure } from "./harness.js";

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
const limit = pLimit(1);

console.log("# production mode (detection on)");
await compare([
  { label: "uncontended runExclusive(async no-op)", ours: () => ours.runExclusive(noop), peer: () => peer.runExclusive(noop), peerName: "async-mutex", target: 0.3 },
  { label: "uncontended runExclusive(async no-op)", ours: () => ours.runExclusive(noop), peer: () => limit(noop), peerName: "p-limit(1)", target: 0.5 },
]);
await compare(
  [
    {
      label: "contended 100 tasks x 1,000 cycles around an await",
      ours: () => contended((fn) => ours.runExclusive(fn)),
      peer: () => contended((fn) => peer.runExclusive(fn)),
      peerName: "async-mutex",
      target: 0.6,
    },
  ],
  { time: 1500 },
);

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
  figure("debug: uncontended runExclusive(async no-op)", `${(o / p).toFixed(2)}x async-mutex [ours ${(o * 1000 / 2).toFixed(2)} µs, async-mutex ${(p * 1000 / 2).toFixed(2)} µs per op]`);
  const small = async (run: (fn: () => Promise<void>) => Promise<void>) => {
    const tasks: Promise<void>[] = [];
    for (let t = 0; t < 100; t++) tasks.push((async () => { for (let i = 0; i < 20; i++) await run(async () => { await Promise.resolve(); }); })());
    await Promise.all(tasks);
  };
  const pc = await timed(() => small((fn) => peer.runExclusive(fn)), 1);
  const oc = await timed(() => small((fn) => dOurs.runExclusive(fn)), 1);
  figure("debug: contended 100 tasks x 20 cycles around an await", `${(oc / pc).toFixed(2)}x async-mutex [ours ${oc.toFixed(1)} ms, async-mutex ${pc.toFixed(1)} ms]`);
}
configure({ mode: "production" });

// Scale: 10,000 tasks blocked on 1,000 locks; each holder is itself inside a held scope, so
// every new blocked acquire pays the wait-for graph search.
{
  const locks = Array.from({ length: 1000 }, (_, i) => new Mutex({ name: `L${i}` }));
  const release: Array<() => void> = [];
  const gates = locks.map(() => new Promise<void>((r) => release.push(r)));
  const holders = locks.map((l, i) => l.runExclusive(() => gates[i]));
  const started = performance.now();
  const waiters: Promise<unknown>[] = [];
  for (let t = 0; t < 10_000; t++) {
    const outer = locks[t % 1000]!;
    const inner = locks[(t * 7 + 1) % 1000]!;
    // each waiter holds nothing: the cheap, common case
    waiters.push(spawn(() => inner.runExclusive(noop), { name: `w${t}` }).catch(() => {}));
    void outer;
  }
  const plain = (performance.now() - started) / 10_000;
  figure("blocked acquire, 10,000 waiters on 1,000 locks, waiter holds nothing", `${(plain * 1000).toFixed(2)} µs per acquire`);
  for (const r of release) r();
  await Promise.all([...holders, ...waiters]);

  // Now waiters that hold a lock of their own: the graph search runs on every block.
  const gates2: Array<() => void> = [];
  const held = locks.map((l) => l.runExclusive(() => new Promise<void>((r) => gates2.push(r))));
  const nested: Promise<unknown>[] = [];
  const extra = Array.from({ length: 10_000 }, (_, i) => new Mutex({ name: `E${i}` }));
  const t0 = performance.now();
  for (let t = 0; t < 10_000; t++) {
    const target = locks[t % 1000]!;
    nested.push(extra[t]!.runExclusive(() => target.runExclusive(noop)).catch(() => {}));
  }
  await new Promise((r) => setImmediate(r));
  const perBlock = (performance.now() - t0) / 10_000;
  figure("blocked acquire with detection (waiter holds a lock), 10,000 waiters on 1,000 locks", `${(perBlock * 1000).toFixed(2)} µs per acquire`);
  for (const r of gates2) r();
  await Promise.all([...held, ...nested]);
}
