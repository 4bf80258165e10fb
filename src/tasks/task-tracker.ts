/**
 * TaskTracker: keeps every background task it spawned until it settles, counts outcomes,
 * reports failures nobody awaited, and shuts down naming whatever is still running.
 */
import { AbortError } from "../core/errors.js";
import { ClosedError } from "../core/errors.js";
import { registerTaskSource, unregisterTaskSource } from "../core/registry.js";
import type { TaskSource } from "../core/registry.js";
import type { TaskRecord } from "../core/task.js";
import { report } from "../core/diagnosis.js";
import type { Diagnosis } from "../core/diagnosis.js";
import type { TaskState } from "../core/task.js";
import { InvalidArgTypeError, validateObject, validateOptionalString, validateTimeoutMs } from "../core/validate.js";
import { LiveList } from "./live-list.js";
import { checkSpawnArgs, shouldCaptureSites, Task } from "./task.js";
import type { Spawnable, SpawnOptions, TaskOwner } from "./task.js";
import { buildReport, leakedTaskDiagnosis } from "./tracker-report.js";
import type { TaskStats, TrackerReport } from "./tracker-report.js";

/** Options of a tracker. */
export interface TaskTrackerOptions {
  /** A name for reports. */
  name?: string;
  /** Capture each task's spawn site (default: in debug mode only; a stack costs microseconds). */
  captureSites?: boolean;
}

/** Options of `waitAll`. */
export interface WaitAllOptions {
  /** Stop waiting after this many ms (default: wait for ever). */
  timeout?: number;
}

/** Options of `shutdown`. */
export interface ShutdownOptions {
  /** How long to let tasks finish before aborting their signals (ms, default 30 000). */
  timeout?: number;
  /** After aborting, how long to wait for tasks to honour the signal (ms, default 1 000). */
  abortGrace?: number;
  /** Throw a {@link ShutdownError} instead of returning when tasks are still running. */
  throwOnTimeout?: boolean;
}

/** Thrown by `shutdown({ throwOnTimeout: true })` when tasks outlived the timeout. */
export class ShutdownError extends Error {
  readonly code = "ASYNCDOCTOR_SHUTDOWN_TIMEOUT";
  readonly report: TrackerReport;
  constructor(trackerName: string, rep: TrackerReport) {
    super(`tracker "${trackerName}" shut down with ${rep.pending.length} task(s) still running\n${rep.toString()}`);
    this.name = "ShutdownError";
    this.report = rep;
  }
}

let trackerCount = 0;

/**
 * Spawns and keeps background tasks, like the seed's TaskTracker, done right.
 *
 * @example
 * ```ts
 * const tracker = new TaskTracker({ name: "notifications" });
 * for (const user of users) tracker.spawn((signal) => notify(user, signal), { name: `notify-${user.id}` });
 * console.log(tracker.stats());            // { pending: 3, completed: 0, failed: 0, cancelled: 0 }
 * const report = await tracker.shutdown({ timeout: 5_000 });
 * if (!report.done) console.error(report.toString());
 * ```
 */
export class TaskTracker implements TaskOwner, TaskSource {
  readonly name: string;
  readonly collectsFailures = false;
  readonly #live = new LiveList<Task<unknown>>();
  readonly #captureSites: boolean | undefined;
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(options: TaskTrackerOptions = {}) {
    validateObject(options, "options");
    validateOptionalString(options.name, "options.name");
    if (options.captureSites !== undefined && typeof options.captureSites !== "boolean") {
      throw new InvalidArgTypeError("options.captureSites", "of type boolean", options.captureSites);
    }
    this.name = options.name ?? `tracker#${++trackerCount}`;
    this.#captureSites = options.captureSites;
  }

  /** For reports. */
  get label(): string {
    return `tracker "${this.name}"`;
  }

  /** True once `shutdown` began: `spawn` throws. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Starts (or adopts) a task and keeps it until it settles. A function receives the task's
   * AbortSignal. A failure that nothing awaits is reported as `task-failed`.
   */
  spawn<T>(task: Spawnable<T>, options?: SpawnOptions): Task<T> {
    checkSpawnArgs(task, options);
    if (this.#closed) {
      throw new ClosedError(
        `${this.label} is shut down: cannot spawn ${options?.name ? `"${options.name}"` : "a new task"}; spawn before shutdown() or use another tracker`,
      );
    }
    const t = new Task<T>(task, options, this, shouldCaptureSites(this.#captureSites));
    if (this.#live.size === 0) registerTaskSource(this);
    this.#live.add(t);
    return t;
  }

  /** @internal */
  liveRecords(): Iterable<TaskRecord> {
    return [...this.#live].map((t) => t.record);
  }

  /** @internal */
  onSettle(task: Task<unknown>, state: TaskState): void {
    this.#live.delete(task);
    if (this.#live.size === 0) unregisterTaskSource(this);
    if (state === "fulfilled") this.#completed++;
    else if (state === "cancelled") this.#cancelled++;
    else this.#failed++;
    if (this.#live.size === 0 && this.#idle.length > 0) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const w of waiters) w();
    }
  }

  /** Counts: pending, completed, failed, cancelled. */
  stats(): TaskStats {
    return { pending: this.#live.size, completed: this.#completed, failed: this.#failed, cancelled: this.#cancelled };
  }

  /** The tasks still running. */
  tasks(): Task<unknown>[] {
    return [...this.#live];
  }

  /**
   * Waits until every task has settled (tasks spawned meanwhile included), or the timeout
   * passes. Never throws for a task's failure: read `stats()` or await the tasks for that.
   */
  async waitAll(options: WaitAllOptions = {}): Promise<TrackerReport> {
    validateObject(options, "options");
    if (options.timeout !== undefined) validateTimeoutMs(options.timeout, "options.timeout", { allowZero: true, allowInfinity: true });
    const done = await this.#waitIdle(options.timeout ?? Infinity);
    return buildReport(done, done ? [] : this.tasks().map((t) => t.record), this.stats(), []);
  }

  #waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.#live.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const onIdle = () => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.#idle.push(onIdle);
      if (timeoutMs !== Infinity) {
        timer = setTimeout(() => {
          this.#idle = this.#idle.filter((w) => w !== onIdle);
          resolve(this.#live.size === 0);
        }, timeoutMs);
      }
    });
  }

  /**
   * Stops accepting work, waits up to `timeout` for the tasks, then aborts the signals of those
   * still running and gives them `abortGrace` ms to stop. Returns a report naming every task
   * still running (each also reported as `leaked-task`), or throws it with `throwOnTimeout`.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<TrackerReport> {
    validateObject(options, "options");
    const timeout = options.timeout ?? 30_000;
    const grace = options.abortGrace ?? 1_000;
    validateTimeoutMs(timeout, "options.timeout", { allowZero: true, allowInfinity: true });
    validateTimeoutMs(grace, "options.abortGrace", { allowZero: true });
    if (options.throwOnTimeout !== undefined && typeof options.throwOnTimeout !== "boolean") {
      throw new InvalidArgTypeError("options.throwOnTimeout", "of type boolean", options.throwOnTimeout);
    }
    this.#closed = true;
    // a second shutdown() while one runs waits for the same one: one report per task
    const rep = await (this.#shutdownRun ??= this.#shutdown(timeout, grace));
    if (!rep.done && options.throwOnTimeout) throw new ShutdownError(this.name, rep);
    return rep;
  }

  #shutdownRun: Promise<TrackerReport> | undefined;

  async #shutdown(timeout: number, grace: number): Promise<TrackerReport> {
    const inTime = await this.#waitIdle(timeout);
    let aborted: Task<unknown>[] = [];
    if (!inTime) {
      aborted = this.tasks();
      for (const t of aborted) t.abort(new AbortError(`tracker "${this.name}" is shutting down (tasks ran past the ${timeout} ms shutdown timeout)`));
      await this.#waitIdle(grace);
    }
    const still = this.tasks();
    const diagnoses: Diagnosis[] = aborted.map((t) =>
      report(
        leakedTaskDiagnosis(
          t.record,
          t.state === "pending"
            ? `when ${this.label} shut down: it outlived the ${timeout} ms timeout and ignored the abort for ${grace} ms more`
            : `when ${this.label}'s ${timeout} ms shutdown timeout passed, so its work was cut off (aborted; it ended ${t.state})`,
          t.state === "pending"
            ? "make the task honour its AbortSignal (pass it to every await that can block), or give shutdown a longer timeout"
            : "give shutdown a timeout that covers this work, or make the work shorter; an aborted task's work is lost",
        ),
      ),
    );
    return buildReport(
      inTime,
      still.map((t) => t.record),
      this.stats(),
      diagnoses,
      aborted.map((t) => t.record),
    );
  }

  /** `await using tracker = new TaskTracker()` shuts it down at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}
