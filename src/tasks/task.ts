/**
 * A tracked task: an awaitable handle on one unit of background work, with a name, an
 * identity (its TaskRecord), a state and an abort signal.
 */
import { channels } from "../core/channels.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Diagnosis } from "../core/diagnosis.js";
import { isInternalFile, LazySite } from "../core/site.js";
import { sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Site } from "../core/site.js";
import { currentTask, runInTask, TaskRecord } from "../core/task.js";
import type { TaskState } from "../core/task.js";
import { isDebug } from "../core/config.js";
import type { Listed, ListNode } from "./live-list.js";
import { InvalidArgTypeError, isThenable, validateOptionalString, validateSignal } from "../core/validate.js";

/** What `spawn` accepts: a function given the task's AbortSignal, or a promise already running. */
export type Spawnable<T> = ((signal: AbortSignal) => T | PromiseLike<T>) | PromiseLike<T>;

/** Options of `spawn`. */
export interface SpawnOptions {
  /** A name for reports; defaults to the function's name, else `task#<id>`. */
  name?: string;
  /** An outside signal that also aborts the task. */
  signal?: AbortSignal;
}

/** How a task ended, for whoever owns it (a tracker or a group). */
export interface TaskOwner {
  /** Called once when the task settles, before any awaiter resumes. */
  /** @internal */
  onSettle(task: Task<unknown>, state: TaskState, error: unknown): void;
  /** True when the owner takes responsibility for failures (a group): no task-failed report. */
  readonly collectsFailures: boolean;
  /** For reports: "tracker \"jobs\"". */
  readonly label: string;
}

/** Validates spawn's arguments; shared by trackers and groups. */
export function checkSpawnArgs(fnOrPromise: unknown, options: unknown): void {
  if (typeof fnOrPromise !== "function" && !isThenable(fnOrPromise)) {
    throw new InvalidArgTypeError("task", "a function or a promise", fnOrPromise);
  }
  if (options !== undefined) {
    if (options === null || typeof options !== "object") throw new InvalidArgTypeError("options", "an object", options);
    const o = options as SpawnOptions;
    validateOptionalString(o.name, "options.name");
    validateSignal(o.signal, "options.signal");
  }
}

/**
 * A running (or finished) task. Await it like a promise; `abort()` asks it to stop.
 *
 * @example
 * ```ts
 * const task = tracker.spawn(async (signal) => fetch(url, { signal }), { name: "fetch-user" });
 * task.abort();            // ask it to stop
 * await task;              // its result, or its error
 * ```
 */
export class Task<T> implements PromiseLike<T>, Listed<Task<unknown>> {
  /** Its identity, shared with sync/ and the reports. */
  readonly record: TaskRecord;
  /** @internal its cell in the owner's list of live tasks. */
  listNode: ListNode<Task<unknown>> | undefined = undefined;
  /** Resolves once the task settled (to its value, or undefined when it failed); never rejects. */
  readonly #promise: Promise<T | undefined>;
  #controller: AbortController | undefined;
  #observed = false;
  #aborted = false;
  #error: unknown;

  /** @internal Use `TaskTracker.spawn` or `TaskGroup.spawn`. */
  constructor(fnOrPromise: Spawnable<T>, options: SpawnOptions | undefined, owner: TaskOwner, captureSite: boolean) {
    const site = captureSite ? new LazySite(Task) : undefined;
    const record = new TaskRecord(options?.name, "task", currentTask(), site, typeof fnOrPromise === "function" ? fnOrPromise : undefined);
    this.record = record;
    const outer = options?.signal;
    if (outer) {
      const c = this.#signalController();
      if (outer.aborted) c.abort(outer.reason);
      else outer.addEventListener("abort", () => this.abort(outer.reason), { once: true });
    }
    // published before the body runs, so subscribers see a task before anything it does
    if (channels.taskSpawn.hasSubscribers) channels.taskSpawn.publish({ task: record });
    let started: PromiseLike<T> | T;
    if (typeof fnOrPromise === "function") {
      // a function that declares no parameter cannot read the signal: skip creating it (a rest or
      // default parameter does not count in fn.length, so those are read from the source)
      const signal = fnOrPromise.length > 0 || takesParameters(fnOrPromise) ? this.#signalController().signal : undefined;
      try {
        started = runInTask(record, () => fnOrPromise(signal as AbortSignal));
      } catch (err) {
        started = Promise.reject(err);
      }
    } else {
      started = fnOrPromise;
    }
    // Our handler is the first on the promise, so state is final before any awaiter resumes;
    // the derived promise never rejects, so a failure becomes a task-failed report, never an
    // unhandled rejection.
    this.#promise = Promise.resolve(started).then(
      (value) => {
        this.#settle(owner, "fulfilled", undefined);
        return value;
      },
      (err: unknown) => {
        this.#settle(owner, this.#aborted && this.#isAbortReason(err) ? "cancelled" : "rejected", err);
        return undefined;
      },
    );
  }

  /** A rejection after abort() is a cancellation only when it is the abort itself, not a new error. */
  #isAbortReason(err: unknown): boolean {
    if (err !== undefined && err === this.#controller?.signal.reason) return true;
    return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
  }

  #signalController(): AbortController {
    return (this.#controller ??= new AbortController());
  }

  #settle(owner: TaskOwner, state: TaskState, error: unknown): void {
    const record = this.record;
    record.state = state;
    if (state !== "fulfilled") record.settledAt = performance.now();
    this.#error = error;
    if (channels.taskSettle.hasSubscribers) channels.taskSettle.publish({ task: record, state, error });
    owner.onSettle(this, state, error);
    if (state === "rejected" && !owner.collectsFailures) {
      // As Node does for unhandled rejections: give code that awaits the task a turn first.
      setImmediate(() => {
        if (!this.#observed) report(taskFailedDiagnosis(this, owner.label, error));
      });
    }
  }

  /** The task's id (unique in the process). */
  get id(): number {
    return this.record.id;
  }

  /** The task's name. */
  get name(): string {
    return this.record.name;
  }

  /** pending, fulfilled, rejected, or cancelled (rejected after abort()). */
  get state(): TaskState {
    return this.record.state;
  }

  /** Where it was spawned (always in debug mode; in production when the owner captures sites). */
  get site(): Site | undefined {
    return this.record.site;
  }

  /** The error it failed with, once rejected or cancelled. */
  get error(): unknown {
    return this.#error;
  }

  /** The task's abort signal. */
  get signal(): AbortSignal {
    return this.#signalController().signal;
  }

  /** True once abort() was called. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Asks the task to stop: aborts its signal. A rejection that follows counts as cancelled. */
  abort(reason?: unknown): void {
    if (this.record.state !== "pending") return;
    this.#aborted = true;
    this.#signalController().abort(reason);
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#observed = true;
    return this.#promise.then((value) => {
      if (this.record.state === "fulfilled") return onfulfilled ? onfulfilled(value as T) : (value as R1);
      if (onrejected) return onrejected(this.#error);
      throw this.#error;
    });
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.then(
      (value) => {
        onfinally?.();
        return value;
      },
      (err: unknown) => {
        onfinally?.();
        throw err;
      },
    );
  }

  /** Marks the result as observed without awaiting it (its failure will not be reported). */
  markObserved(): this {
    this.#observed = true;
    return this;
  }

  get [Symbol.toStringTag](): string {
    return "Task";
  }
}

/** The task-failed Diagnosis for a failure nobody awaited. */
export function taskFailedDiagnosis(task: Task<unknown>, ownerLabel: string, error: unknown): Diagnosis {
  const record = task.record;
  const failedAt = errorSite(error);
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return createDiagnosis({
    rule: "task-failed",
    certainty: "observed",
    summary: `background task "${record.name}" (${ownerLabel}) failed and nothing awaited its result: ${message}`,
    subjects: [
      { kind: "task", name: record.name, role: "spawned here", site: record.site, detail: `ran ${Math.round(record.ageMs)} ms` },
      ...(failedAt ? [{ kind: "code" as const, name: message, role: "failed here", site: failedAt }] : []),
    ],
    site: record.site ?? failedAt,
    fix: `await the task (or a TaskGroup holding it), or handle its error with .catch(); a fire-and-forget task must handle its own errors`,
    data: { error: message },
  });
}

/** The first user frame of an error's stack: where it was thrown. */
export function errorSite(error: unknown): Site | undefined {
  if (!(error instanceof Error) || typeof error.stack !== "string") return undefined;
  for (const line of error.stack.split("\n").slice(1)) {
    const m = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?$/.exec(line.trim());
    if (!m) continue;
    let file = m[1] ?? "";
    if (file.startsWith("file://")) file = fileURLToPath(file);
    if (isInternalFile(file) || file.includes(`${sep}node_modules${sep}`)) continue;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/** Whether spawns capture a creation site: always in debug mode, else as the owner chose. */
export function shouldCaptureSites(option: boolean | undefined): boolean {
  return option ?? isDebug();
}

const paramsSeen = new WeakMap<Function, boolean>();

/** True when a function of length 0 still declares parameters (`(...args) =>`, `(signal = x) =>`). */
function takesParameters(fn: Function): boolean {
  let known = paramsSeen.get(fn);
  if (known === undefined) {
    const src = Function.prototype.toString.call(fn);
    // the parameter list: "(" … ")" before the body; a single bare parameter would have length 1
    const open = src.indexOf("(");
    const arrow = src.indexOf("=>");
    known = open !== -1 && (arrow === -1 || open < arrow) && /^\(\s*[^\s)]/.test(src.slice(open));
    paramsSeen.set(fn, known);
  }
  return known;
}
