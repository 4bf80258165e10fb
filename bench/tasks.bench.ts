/**
 * Tasks: the cost of tracking. A tracked no-op against a bare async call, both collected with
 * Promise.all, in production mode; and the memory a pending tracked task holds.
 */
import { TaskTracker } from "../src/index.js";
import { compare, figure } from "./harness.js";

const BATCH = 100;
const noop = async () => {};
const tracker = new TaskTracker({ name: "bench" });

await compare([
  {
    label: `spawn + settle of ${BATCH} no-op tasks through a tracker`,
    ours: () => {
      const all = new Array<PromiseLike<void>>(BATCH);
      for (let i = 0; i < BATCH; i++) all[i] = tracker.spawn(noop);
      return Promise.all(all);
    },
    peer: () => {
      const all = new Array<Promise<void>>(BATCH);
      for (let i = 0; i < BATCH; i++) all[i] = noop();
      return Promise.all(all);
    },
    peerName: "bare async calls + Promise.all",
    target: 2,
  },
]);

/** Heap bytes per pending unit, measured after a full GC with `n` of them alive. */
async function bytesPerPending(n: number, start: (gate: Promise<void>) => unknown): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc (npm run bench does)");
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  gc();
  const before = process.memoryUsage().heapUsed;
  const keep: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) keep[i] = start(gate);
  gc();
  const after = process.memoryUsage().heapUsed;
  open();
  await Promise.all(keep as PromiseLike<unknown>[]);
  return (after - before) / n;
}

const N = 100_000;
const mem = new TaskTracker({ name: "memory" });
const tracked = await bytesPerPending(N, (gate) => mem.spawn(() => gate));
const bare = await bytesPerPending(N, (gate) => (async () => gate)());
figure(
  "memory per pending task",
  `${tracked.toFixed(0)} bytes tracked vs ${bare.toFixed(0)} bytes for a bare pending async call (${(tracked / bare).toFixed(2)}x; ${N.toLocaleString("en")} alive)`,
);
