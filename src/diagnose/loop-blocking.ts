/**
 * Event-loop blocking.
 *
 * Debug mode times every promise continuation and names the task that ran the long one. A clock
 * read per continuation must be nearly free (a `performance.now()` costs ~30 ns, more than a
 * whole await in a hot loop), so a worker thread keeps a coarse millisecond clock in shared
 * memory and the main thread reads it with one typed-array load before and after each
 * continuation. The worker's clock keeps running while the main thread is blocked, which is
 * exactly what is measured. Callbacks that are not promise continuations (timers, I/O) are
 * caught by a lag check on an unref'd interval, without a task name.
 *
 * Time spent loading modules is not the program's blocking: `require()` (which also runs tsx and
 * the await transform on CommonJS files, and loads the CommonJS packages an ES module imports)
 * is timed, and a stretch is reported only when what is left of it after loading passes the
 * threshold. Measured on the corpus: every `loop-blocked` report on the knex, sequelize, pg and
 * undici controls was a stretch spent 95% or more inside `require()` (knex loads its driver
 * lazily, on the first query).
 *
 * Production mode offers cheap loop-delay statistics (`perf_hooks.monitorEventLoopDelay`).
 */
import { readFileSync } from "node:fs";
import Module from "node:module";
import diagnosticsChannel from "node:diagnostics_channel";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import type { IntervalHistogram } from "node:perf_hooks";
import { promiseHooks } from "node:v8";
import { Worker } from "node:worker_threads";
import { getConfig } from "../core/config.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Diagnosis, Subject } from "../core/diagnosis.js";
import { channelNames } from "../core/channels.js";
import { currentTask } from "../core/task.js";
import type { TaskRecord } from "../core/task.js";
import { InvalidArgTypeError, validateObject, validateTimeoutMs } from "../core/validate.js";

/** Options of {@link monitorLoopBlocking}. */
export interface LoopBlockingOptions {
  /** Report synchronous stretches longer than this (ms); default `configure({ loopBlockMs })` (100). */
  thresholdMs?: number;
  /**
   * Ignore blocks until the event loop's first turn: loading and evaluating the program's
   * modules is synchronous by nature (`--import asyncdoctor/register` sets it).
   */
  skipStartup?: boolean;
}

const CLOCK_TICK_MS = 2;
/** Every this many ticks the worker samples the main thread's scheduler statistics (Linux). */
const SCHED_EVERY = 10;
const RING = 16;
// [0] time, [1] process CPU ms, then RING samples of the main thread's
// (time, ms on a CPU, ms waiting for one) from /proc/<pid>/task/<pid>/schedstat
const CLOCK_SOURCE = `
const { workerData } = require("node:worker_threads");
const { readFileSync } = require("node:fs");
const clock = new Float64Array(workerData.buffer);
const file = "/proc/" + workerData.pid + "/task/" + workerData.pid + "/schedstat";
let n = 0, slot = 1, sched = true;
const tick = () => {
  const cpu = process.cpuUsage();
  clock[1] = (cpu.user + cpu.system) / 1000;
  clock[0] = performance.timeOrigin + performance.now();
  if (sched && n++ % ${SCHED_EVERY} === 0) {
    try {
      const [run, wait] = readFileSync(file, "latin1").split(" ").map(Number);
      const at = 2 + 3 * slot;
      clock[at] = clock[0]; clock[at + 1] = run / 1e6; clock[at + 2] = wait / 1e6;
      slot = (slot + 1) % ${RING};
    } catch { sched = false; }
  }
};
tick();
setInterval(tick, ${CLOCK_TICK_MS});
`;

/** The main thread's own scheduler statistics now (ms on a CPU, ms runnable but waiting), on Linux. */
function mainSchedstat(): { run: number; wait: number } | undefined {
  try {
    const [run, wait] = readFileSync("/proc/thread-self/schedstat", "latin1").split(" ").map(Number);
    return run === undefined || wait === undefined || !Number.isFinite(run) || !Number.isFinite(wait) ? undefined : { run: run / 1e6, wait: wait / 1e6 };
  } catch {
    return undefined;
  }
}

/** How a stall of the loop is read. */
export type StallKind = "busy" | "syscall" | "starved";

/**
 * Tells a loop that was busy (the program's own work) from one that was starved (runnable, but
 * the machine gave it no CPU) and from one blocked in a system call (execSync, sync I/O). The
 * question is whether the stretch would have blocked past the threshold on an idle machine: its
 * own CPU time plus the time it slept in the kernel (wall time minus CPU minus the time it
 * waited for a CPU). `waitMs` comes from the scheduler (Linux); without it, a stretch that got
 * under a fifth of a core is taken for starvation.
 *
 * @example
 * ```ts
 * classifyStall({ wallMs: 300, cpuMs: 290, thresholdMs: 100 });              // "busy"
 * classifyStall({ wallMs: 300, cpuMs: 4, waitMs: 280, thresholdMs: 100 });   // "starved"
 * classifyStall({ wallMs: 300, cpuMs: 4, waitMs: 1, thresholdMs: 100 });     // "syscall"
 * ```
 */
export function classifyStall(stall: { wallMs: number; cpuMs: number; waitMs?: number | undefined; thresholdMs: number }): StallKind {
  const { wallMs, cpuMs, waitMs, thresholdMs } = stall;
  if (waitMs === undefined) return cpuMs >= wallMs / 5 ? "busy" : "starved";
  if (cpuMs >= thresholdMs) return "busy";
  const slept = Math.max(0, wallMs - cpuMs - waitMs);
  if (cpuMs + slept < thresholdMs) return "starved";
  return slept > cpuMs ? "syscall" : "busy";
}

let active: { stop: () => void } | undefined;

type Load = (this: unknown, ...args: unknown[]) => unknown;

/** Milliseconds spent inside outermost `require()` calls since the monitor started. */
const loading = { ms: 0, depth: 0 };

/**
 * Times `Module._load` (every `require()`, and the CommonJS modules an ES module imports). Returns
 * the function that takes the wrapper off again, when nothing wrapped it meanwhile.
 */
function timeModuleLoading(): () => void {
  const mod = Module as unknown as { _load?: Load };
  const original = mod._load;
  if (typeof original !== "function") return () => {};
  const timed: Load = function (this: unknown, ...args: unknown[]): unknown {
    if (loading.depth++ !== 0) {
      try {
        return original.apply(this, args);
      } finally {
        loading.depth--;
      }
    }
    const t = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      loading.depth--;
      loading.ms += performance.now() - t;
    }
  };
  mod._load = timed;
  return () => {
    // someone wrapped it after us (the instrumentation's load hooks): leave the chain as it is
    if (mod._load === timed) mod._load = original;
  };
}

/**
 * Starts reporting event-loop blocks as `loop-blocked` Diagnoses, each with its duration and,
 * for promise continuations, the task that ran it. Debug mode starts it; returns a stop function.
 *
 * @example
 * ```ts
 * const stop = monitorLoopBlocking({ thresholdMs: 50 });
 * ```
 */
export function monitorLoopBlocking(options: LoopBlockingOptions = {}): () => void {
  validateObject(options, "options");
  if (options.thresholdMs !== undefined) validateTimeoutMs(options.thresholdMs, "options.thresholdMs");
  if (options.skipStartup !== undefined && typeof options.skipStartup !== "boolean") {
    throw new InvalidArgTypeError("options.skipStartup", "of type boolean", options.skipStartup);
  }
  if (active) active.stop();
  const threshold = options.thresholdMs ?? getConfig().loopBlockMs;
  // absolute ms, so the worker's clock and a precise main-thread read can be compared
  // [0]: the time, [1]: the process's CPU time (ms), as of the worker's last tick
  const clock = new Float64Array(new SharedArrayBuffer(8 * (2 + 3 * RING)));
  const origin = performance.timeOrigin;
  // a first sample taken here: the worker takes tens of ms to boot, and a stall may come first
  const first = mainSchedstat();
  if (first) {
    clock[2] = origin + performance.now();
    clock[3] = first.run;
    clock[4] = first.wait;
  }
  const worker = new Worker(CLOCK_SOURCE, { eval: true, workerData: { buffer: clock.buffer, pid: process.pid } });
  worker.unref();
  // the coarse clock can under-read by one tick at each end
  const coarse = Math.max(1, threshold - 2 * CLOCK_TICK_MS);
  let startedAt = 0;
  let startCpu = 0;
  let startLoading = 0;
  let taskAtBefore: TaskRecord | undefined;
  let lastReportAt = 0;
  let stopped = false;
  let armed = !options.skipStartup;

  // Until the worker's first tick (it takes a few tens of ms to boot) the main thread reads a
  // precise clock; afterwards the worker's clock, and a precise read only for the rare long one.
  // Node's own promise hook switches the async context; whether it runs before or after ours
  // depends on the order hooks were registered (which changes as async hooks are enabled), so
  // the task is read on both sides: the context is the task's on one of them, and on the
  // other it is the one between continuations, where no task runs.
  const before = () => {
    taskAtBefore = currentTask();
    startLoading = loading.ms;
    const c = clock[0]!;
    if (c === 0) {
      startedAt = origin + performance.now();
      startCpu = cpuMs();
    } else {
      startedAt = c;
      startCpu = clock[1]!;
    }
  };
  const after = () => {
    const c = clock[0]!;
    // the continuation running when the hook was installed gets an after() without a before()
    if (startedAt === 0 || !armed) return;
    if (c === 0 ? origin + performance.now() - startedAt >= threshold : c - startedAt >= coarse) {
      const ms = Math.round(origin + performance.now() - startedAt);
      const cpu = cpuMs() - startCpu;
      const task = taskAtBefore ?? currentTask();
      const loaded = loading.ms - startLoading;
      lastReportAt = performance.now();
      // mostly module loading (startup, a lazy require): not the program's own blocking
      if (ms - loaded < threshold) {
        startedAt = 0;
        bodyReportedMs = 0;
        return;
      }
      // a spawned task's synchronous body inside this continuation was reported on its own
      if (bodyReportedMs > 0 && ms - bodyReportedMs < threshold) {
        startedAt = 0;
        bodyReportedMs = 0;
        return;
      }
      const stall = stallOf(startedAt, ms, cpu);
      // not from inside a promise hook: report on the next turn
      if (stall.kind !== "starved") setImmediate(() => report(loopBlockedDiagnosis(ms, task, "a promise continuation", threshold, cpu, stall.kind, loaded)));
    }
    startedAt = 0;
    bodyReportedMs = 0;
  };

  // The main thread's CPU and run-queue wait over a stretch that began at `from` (absolute ms),
  // from the worker's latest sample before it and a fresh read now (rare: only for a long
  // stretch). The window then begins up to a sample interval early: its deltas are used as they
  // are (time idle before the stretch can only add to "asleep", a few ms). A sample much older
  // than that (the worker was itself held up) says nothing of the stretch; with only samples
  // taken during it, the part they cover is scaled to the whole. Without scheduler figures, the
  // process's CPU time over the stretch.
  const stallOf = (from: number, wallMs: number, processCpu: number): { kind: StallKind } => {
    const now = mainSchedstat();
    let before: { at: number; run: number; wait: number } | undefined;
    let oldest: { at: number; run: number; wait: number } | undefined;
    for (let i = 0; i < RING; i++) {
      const at = clock[2 + 3 * i]!;
      if (at <= 0) continue;
      const sample = { at, run: clock[3 + 3 * i]!, wait: clock[4 + 3 * i]! };
      if (at <= from && (!before || at > before.at)) before = sample;
      if (!oldest || at < oldest.at) oldest = sample;
    }
    const fallback = { kind: classifyStall({ wallMs, cpuMs: processCpu, thresholdMs: threshold }) };
    if (!now) return fallback;
    const end = origin + performance.now();
    if (before && from - before.at <= 3 * SCHED_EVERY * CLOCK_TICK_MS) {
      return { kind: classifyStall({ wallMs: end - before.at, cpuMs: now.run - before.run, waitMs: now.wait - before.wait, thresholdMs: threshold }) };
    }
    const inside = oldest && oldest.at > from ? oldest : undefined;
    const span = inside ? end - inside.at : 0;
    if (!inside || span < wallMs / 2) return fallback;
    const k = wallMs / span;
    return { kind: classifyStall({ wallMs, cpuMs: (now.run - inside.run) * k, waitMs: (now.wait - inside.wait) * k, thresholdMs: threshold }) };
  };

  // A spawned task's synchronous body (up to its first await) runs inside spawn(), not as a
  // promise continuation: timed from the spawn (published just before the body runs) to the
  // first promise made outside that task afterwards (spawn's own bookkeeping, right after the
  // body returns). The init hook is on only while a body runs.
  let bodyReportedMs = 0;
  const bodies: { task: TaskRecord; start: number; cpu: number; loading: number }[] = [];
  let stopInit: (() => void) | undefined;
  const onBodyInit = () => {
    const now = currentTask();
    while (bodies.length > 0) {
      const top = bodies[bodies.length - 1]!;
      if (now !== undefined && now.isWithin(top.task)) return;
      bodies.pop();
      const ms = origin + performance.now() - top.start;
      const loaded = loading.ms - top.loading;
      if (armed && ms - loaded >= threshold) {
        const cpu = cpuMs() - top.cpu;
        const stall = stallOf(top.start, ms, cpu);
        const task = top.task;
        bodyReportedMs += ms;
        lastReportAt = performance.now();
        if (stall.kind !== "starved")
          setImmediate(() => report(loopBlockedDiagnosis(Math.round(ms), task, "the synchronous body of a spawned task", threshold, cpu, stall.kind, loaded)));
      }
    }
    stopInit?.();
    stopInit = undefined;
  };
  const onSpawn = (message: unknown) => {
    const task = (message as { task?: unknown }).task as TaskRecord | undefined;
    if (!task || stopped) return;
    bodies.push({ task, start: origin + performance.now(), cpu: cpuMs(), loading: loading.ms });
    stopInit ??= promiseHooks.onInit(onBodyInit) as () => void;
  };
  diagnosticsChannel.subscribe(channelNames.taskSpawn, onSpawn);
  const stopTimingLoads = timeModuleLoading();
  const stopHook = promiseHooks.createHook({ before, after }) as () => void;

  // timers and I/O callbacks: the lag of an interval
  const INTERVAL = Math.min(50, Math.max(5, Math.floor(threshold / 4)));
  let expected = performance.now() + INTERVAL;
  let lastCpu = cpuMs();
  let lastLoading = loading.ms;
  const interval = setInterval(() => {
    const now = performance.now();
    const cpu = cpuMs();
    const lag = now - expected;
    const cpuSpent = cpu - lastCpu;
    const loaded = loading.ms - lastLoading;
    expected = now + INTERVAL;
    lastCpu = cpu;
    lastLoading = loading.ms;
    // a block already reported (with its task) by the hook during this lag is not reported twice
    if (armed && lag - loaded >= threshold && lastReportAt < now - lag) {
      const stall = stallOf(origin + now - lag - INTERVAL, lag, cpuSpent);
      if (stall.kind !== "starved") report(loopBlockedDiagnosis(Math.round(lag), undefined, "a callback", threshold, cpuSpent, stall.kind, loaded));
    }
  }, INTERVAL);
  interval.unref();
  if (!armed) {
    setImmediate(() => {
      armed = true;
      // the lag measured from here: loading the program's modules before this turn is not a block
      expected = performance.now() + INTERVAL;
      lastCpu = cpuMs();
      lastLoading = loading.ms;
    });
  }

  const stop = () => {
    if (stopped) return;
    stopped = true;
    stopHook();
    stopTimingLoads();
    stopInit?.();
    diagnosticsChannel.unsubscribe(channelNames.taskSpawn, onSpawn);
    clearInterval(interval);
    // the clock worker may already be gone: nothing to report when stopping it fails
    worker.terminate().catch(() => {});
    if (active?.stop === stop) active = undefined;
  };
  active = { stop };
  return stop;
}

function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/**
 * The loop-blocked Diagnosis. A stall in which the loop's thread hardly ran is not reported at
 * all when it was starved (the machine did not schedule it: not the program's doing); one spent
 * in a blocking system call (execSync, sync I/O on a slow disk) is reported, saying so.
 * `loadingMs`, the part of the stretch spent loading modules, is named when there was any.
 */
export function loopBlockedDiagnosis(
  durationMs: number,
  task: TaskRecord | undefined,
  what: string,
  thresholdMs = getConfig().loopBlockMs,
  cpuMsSpent = durationMs,
  kind: StallKind = classifyStall({ wallMs: durationMs, cpuMs: cpuMsSpent, thresholdMs }),
  loadingMs = 0,
): Diagnosis {
  const loaded = Math.round(loadingMs);
  const subjects: Subject[] = task
    ? [{ kind: "task", name: task.name, role: "was running", site: task.site, detail: `blocked the loop ${durationMs} ms` }]
    : [];
  return createDiagnosis({
    rule: "loop-blocked",
    certainty: kind === "starved" ? "potential" : "observed",
    summary:
      `the event loop was blocked for ${durationMs} ms by ${what}` +
      (task ? ` in task "${task.name}"` : " (no tracked task was running)") +
      `; nothing else could run meanwhile (threshold ${thresholdMs} ms)` +
      (loaded > 0 ? `; ${loaded} ms of it was spent loading modules, not counted against the threshold` : "") +
      (kind === "syscall" ? `; it used only ${Math.round(cpuMsSpent)} ms of CPU meanwhile: a blocking system call (execSync, sync I/O)` : "") +
      (kind === "starved" ? `; the process used only ${Math.round(cpuMsSpent)} ms of CPU meanwhile: the machine did not schedule it` : ""),
    subjects,
    site: task?.site,
    fix: "move the synchronous work off the loop (a worker thread, or chunks separated by `await setImmediate()`), or use the async version of the call (fs.promises, crypto's async APIs)",
    data: { durationMs, thresholdMs, cpuMs: Math.round(cpuMsSpent), stall: kind, ...(loaded > 0 ? { loadingMs: loaded } : {}) },
  });
}

/** Event-loop delay statistics, in milliseconds. */
export interface LoopDelayStats {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  /** Samples taken. */
  readonly count: number;
}

let histogram: IntervalHistogram | undefined;

/**
 * Production mode's cheap view of loop health: starts `monitorEventLoopDelay` on first call
 * (sampling every 20 ms) and returns the statistics so far. `reset` starts a new window.
 *
 * @example
 * ```ts
 * setInterval(() => metrics.gauge("loop.p99", loopDelay({ reset: true }).p99), 10_000);
 * ```
 */
export function loopDelay(options: { reset?: boolean } = {}): LoopDelayStats {
  validateObject(options, "options");
  if (!histogram) {
    histogram = monitorEventLoopDelay({ resolution: 20 });
    histogram.enable();
  }
  const h = histogram;
  const ms = (ns: number) => Math.round((ns / 1e6) * 100) / 100;
  const count = h.count;
  const stats: LoopDelayStats = {
    min: count ? ms(h.min) : 0,
    max: count ? ms(h.max) : 0,
    mean: count ? ms(h.mean) : 0,
    p50: count ? ms(h.percentile(50)) : 0,
    p99: count ? ms(h.percentile(99)) : 0,
    count,
  };
  if (options.reset) h.reset();
  return stats;
}

/** Stops the loop-delay histogram started by {@link loopDelay}. */
export function stopLoopDelay(): void {
  histogram?.disable();
  histogram = undefined;
}
