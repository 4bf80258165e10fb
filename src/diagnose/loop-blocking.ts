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
 * Production mode offers cheap loop-delay statistics (`perf_hooks.monitorEventLoopDelay`).
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import type { IntervalHistogram } from "node:perf_hooks";
import { promiseHooks } from "node:v8";
import { Worker } from "node:worker_threads";
import { getConfig } from "../core/config.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Diagnosis, Subject } from "../core/diagnosis.js";
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
const CLOCK_SOURCE = `
const { workerData } = require("node:worker_threads");
const clock = new Float64Array(workerData);
const tick = () => {
  const cpu = process.cpuUsage();
  clock[1] = (cpu.user + cpu.system) / 1000;
  clock[0] = performance.timeOrigin + performance.now();
};
tick();
setInterval(tick, ${CLOCK_TICK_MS});
`;

let active: { stop: () => void } | undefined;

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
  validateObject(options as unknown, "options");
  if (options.thresholdMs !== undefined) validateTimeoutMs(options.thresholdMs, "options.thresholdMs");
  if (options.skipStartup !== undefined && typeof options.skipStartup !== "boolean") {
    throw new InvalidArgTypeError("options.skipStartup", "of type boolean", options.skipStartup);
  }
  if (active) active.stop();
  const threshold = options.thresholdMs ?? getConfig().loopBlockMs;
  // absolute ms, so the worker's clock and a precise main-thread read can be compared
  // [0]: the time, [1]: the process's CPU time (ms), as of the worker's last tick
  const clock = new Float64Array(new SharedArrayBuffer(16));
  const origin = performance.timeOrigin;
  const worker = new Worker(CLOCK_SOURCE, { eval: true, workerData: clock.buffer });
  worker.unref();
  // the coarse clock can under-read by one tick at each end
  const coarse = Math.max(1, threshold - 2 * CLOCK_TICK_MS);
  let startedAt = 0;
  let startCpu = 0;
  let taskAtBefore: TaskRecord | undefined;
  let lastReportAt = 0;
  let stopped = false;
  let armed = !options.skipStartup;
  if (!armed) setImmediate(() => (armed = true));

  // Until the worker's first tick (it takes a few tens of ms to boot) the main thread reads a
  // precise clock; afterwards the worker's clock, and a precise read only for the rare long one.
  // Node's own promise hook switches the async context; whether it runs before or after ours
  // depends on the order hooks were registered (which changes as async hooks are enabled), so
  // the task is read on both sides: the context is the task's on one of them, and on the
  // other it is the one between continuations, where no task runs.
  const before = () => {
    taskAtBefore = currentTask();
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
      lastReportAt = performance.now();
      // not from inside a promise hook: report on the next turn
      setImmediate(() => report(loopBlockedDiagnosis(ms, task, "a promise continuation", threshold, cpu)));
    }
    startedAt = 0;
  };
  const stopHook = promiseHooks.createHook({ before, after }) as () => void;

  // timers and I/O callbacks: the lag of an interval
  const INTERVAL = Math.min(50, Math.max(5, Math.floor(threshold / 4)));
  let expected = performance.now() + INTERVAL;
  let lastCpu = cpuMs();
  const interval = setInterval(() => {
    const now = performance.now();
    const cpu = cpuMs();
    const lag = now - expected;
    const cpuSpent = cpu - lastCpu;
    expected = now + INTERVAL;
    lastCpu = cpu;
    // a block already reported (with its task) by the hook during this lag is not reported twice
    if (armed && lag >= threshold && lastReportAt < now - lag) report(loopBlockedDiagnosis(Math.round(lag), undefined, "a callback", threshold, cpuSpent));
  }, INTERVAL);
  interval.unref();

  const stop = () => {
    if (stopped) return;
    stopped = true;
    stopHook();
    clearInterval(interval);
    void worker.terminate();
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
 * The loop-blocked Diagnosis. When the process spent little CPU during the stall, it may not be
 * the program's doing (the OS did not schedule it) — or a blocking system call (execSync, sync
 * I/O on a slow disk): that is reported as *potential*, saying so.
 */
export function loopBlockedDiagnosis(
  durationMs: number,
  task: TaskRecord | undefined,
  what: string,
  thresholdMs = getConfig().loopBlockMs,
  cpuMsSpent = durationMs,
): Diagnosis {
  // a CPU-bound block on a loaded machine still gets a fair share of a core; a stall gets ~none
  const busy = cpuMsSpent >= durationMs / 5;
  const subjects: Subject[] = task
    ? [{ kind: "task", name: task.name, role: "was running", site: task.site, detail: `blocked the loop ${durationMs} ms` }]
    : [];
  return createDiagnosis({
    rule: "loop-blocked",
    certainty: busy ? "observed" : "potential",
    summary:
      `the event loop was blocked for ${durationMs} ms by ${what}` +
      (task ? ` in task "${task.name}"` : " (no tracked task was running)") +
      `; nothing else could run meanwhile (threshold ${thresholdMs} ms)` +
      (busy ? "" : `; the process used only ${Math.round(cpuMsSpent)} ms of CPU meanwhile: a blocking system call (execSync, sync I/O), or the machine did not schedule it`),
    subjects,
    site: task?.site,
    fix: "move the synchronous work off the loop (a worker thread, or chunks separated by `await setImmediate()`), or use the async version of the call (fs.promises, crypto's async APIs)",
    data: { durationMs, thresholdMs, cpuMs: Math.round(cpuMsSpent) },
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
  validateObject(options as unknown, "options");
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
