/**
 * The runtime doctor's cost.
 * - Debug mode (promise tracking for never-settled awaits + per-continuation loop-block timing)
 *   on a promise-heavy loop of 1e6 awaits, against no instrumentation: target <= 3x. Plain
 *   async_hooks promise tracking (init/promiseResolve/destroy, a map of live promises) is
 *   measured side by side, on the same loop.
 * - Production mode: the same loop in a process that imports asyncdoctor and one that does
 *   not (code that uses none of its primitives): the ratio should be ~1.0x.
 */
import { createHook } from "node:async_hooks";
import { spawnSync } from "node:child_process";
import { compare, figure } from "./harness.js";
import { trackPromises } from "../src/diagnose/promise-tracking.js";
import { monitorLoopBlocking } from "../src/diagnose/loop-blocking.js";

async function leaf(i: number): Promise<number> {
  return i;
}

async function loop(n: number): Promise<number> {
  let s = 0;
  for (let i = 0; i < n; i++) s += await leaf(i);
  return s;
}

const N = 1e6;

// the monitor's clock worker is started once; its promise hooks are what each run pays for
const debugHooksOn = async () => {
  const stopPromises = trackPromises();
  const stopLoop = monitorLoopBlocking();
  try {
    await loop(N);
  } finally {
    stopPromises();
    stopLoop();
  }
};

const asyncHooksTracking = async () => {
  const live = new Map<number, object>();
  const hook = createHook({
    init(id, type, _trigger, resource) {
      if (type === "PROMISE") live.set(id, resource);
    },
    promiseResolve(id) {
      live.delete(id);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  try {
    await loop(N);
  } finally {
    hook.disable();
  }
};

const bare = () => loop(N);

// the lightest async_hooks variant: hooks that do nothing (the cost of turning async_hooks on)
const asyncHooksEmpty = async () => {
  const hook = createHook({ init() {}, promiseResolve() {} }).enable();
  try {
    await loop(N);
  } finally {
    hook.disable();
  }
};

const promiseTrackingOnly = async () => {
  const stop = trackPromises();
  try {
    await loop(N);
  } finally {
    stop();
  }
};

const loopTimingOnly = async () => {
  const stop = monitorLoopBlocking();
  try {
    await loop(N);
  } finally {
    stop();
  }
};

await compare(
  [
    { label: "debug mode, 1e6 awaits", ours: debugHooksOn, peer: bare, peerName: "no instrumentation", target: 3 },
    { label: "  of which promise tracking (never-settled) alone", ours: promiseTrackingOnly, peer: bare, peerName: "no instrumentation" },
    { label: "  of which loop-block timing (shared-memory clock) alone", ours: loopTimingOnly, peer: bare, peerName: "no instrumentation" },
    { label: "async_hooks promise tracking, 1e6 awaits (reference)", ours: asyncHooksTracking, peer: bare, peerName: "no instrumentation" },
    { label: "async_hooks with empty init/promiseResolve hooks, 1e6 awaits (reference)", ours: asyncHooksEmpty, peer: bare, peerName: "no instrumentation" },
    { label: "debug mode vs async_hooks promise tracking, 1e6 awaits", ours: debugHooksOn, peer: asyncHooksTracking, peerName: "async_hooks tracking" },
  ],
  { time: 500, rounds: 5, iterations: 4 }, // 5 rounds: on a shared machine single rounds are noisy
);

// Production mode: importing asyncdoctor must not tax code that does not use it. An import
// cannot be undone in one process, so each side runs in its own process, alternately.
function childMedian(which: "with" | "without"): number {
  const r = spawnSync(process.execPath, ["--import", "tsx", "bench/doctor-loop.ts", which], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bench/doctor-loop.ts failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}
const ratios: number[] = [];
let withSum = 0;
let withoutSum = 0;
for (let round = 0; round < 4; round++) {
  const a = round % 2 === 0 ? childMedian("with") : 0;
  const b = childMedian("without");
  const c = round % 2 === 1 ? childMedian("with") : a;
  ratios.push(c / b);
  withSum += c;
  withoutSum += b;
}
ratios.sort((x, y) => x - y);
const median = (ratios[1]! + ratios[2]!) / 2;
figure(
  "production mode, 1e6 awaits, asyncdoctor imported vs not (separate processes, alternated)",
  `${median.toFixed(2)}x  [with ${(withSum / 4).toFixed(1)} ms, without ${(withoutSum / 4).toFixed(1)} ms per 1e6 awaits, median of 4 rounds]`,
);
