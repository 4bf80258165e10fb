/**
 * Task identity. A task is a unit of async work asyncdoctor can name: a spawned task, a
 * group's task, or the scope of a `runExclusive` / `use` callback. Identity flows through
 * AsyncLocalStorage, so plain async code called inside a task belongs to it.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { performance } from "node:perf_hooks";
import type { Site } from "./site.js";
import { processWide } from "./process-wide.js";
import { LazySite } from "./site.js";

/** Where a task is in its life. */
export type TaskState = "pending" | "fulfilled" | "rejected" | "cancelled";

/** What kind of unit a record stands for. */
export type TaskKind = "task" | "scope";

/** Someone holding a primitive: the task (when known), where and since when. */
export interface HolderInfo {
  readonly task: TaskRecord | undefined;
  readonly site: Site | undefined;
  /** performance.now() at acquisition. */
  readonly since: number;
}

/** Anything a task can wait on: a lock, a semaphore, a pool. Implemented in sync/. */
export interface WaitTarget {
  readonly name: string;
  /** "mutex", "semaphore", "rwlock", "pool", … */
  readonly kind: string;
  /** Where it was constructed. */
  readonly site: Site | undefined;
  /** Who holds it now. */
  holders(): readonly HolderInfo[];
}

/** What a blocked task is waiting on. */
export interface WaitInfo {
  readonly target: WaitTarget;
  /** performance.now() when the wait began. */
  readonly since: number;
  /** Where the wait was started, when known. */
  readonly site: Site | undefined;
}

/** A primitive a task holds, kept on the task so re-entrance and cycles are cheap to see. */
export interface HeldEntry {
  readonly target: WaitTarget;
  readonly site: Site | undefined;
  readonly since: number;
}

// shared with any other copy of the package in this process (ESM and CommonJS builds)
const taskIds = processWide("taskIds", () => ({ next: 1 }));

/** The record of one task. */
export class TaskRecord {
  readonly id: number;
  readonly kind: TaskKind;
  readonly parent: TaskRecord | undefined;
  /** performance.now() at creation. */
  readonly createdAt: number;
  state: TaskState = "pending";
  settledAt: number | undefined;
  /** Set by sync/ while the task is blocked on a primitive. */
  waitingOn: WaitInfo | undefined;
  /** Set by sync/: what this task holds now. */
  held: HeldEntry[] | undefined;
  /**
   * performance.now() by which this task's work must be done (a withTimeout / deadline scope);
   * inherited from the parent so nested timeouts share one budget.
   */
  deadline: number | undefined;
  /** The abort signal of the deadline scope, when there is one. */
  deadlineSignal: AbortSignal | undefined;
  /**
   * Set on a withTimeout scope once it expired: the body may go on running, but nobody waits for
   * it any more, so it is a unit of its own (not part of the scopes around it).
   */
  detached = false;
  #site: Site | LazySite | undefined;
  // The name is derived when first read: reading a function's name costs on every spawn.
  #name: string | undefined;
  #nameFrom: Function | undefined;

  /**
   * @param name the given name; when undefined, the name of `nameFrom` (a spawned function)
   *   is used, else `task#<id>`.
   */
  constructor(name: string | undefined, kind: TaskKind, parent: TaskRecord | undefined, site: Site | LazySite | undefined, nameFrom?: Function) {
    this.id = taskIds.next++;
    this.#name = name;
    this.#nameFrom = name === undefined ? nameFrom : undefined;
    this.kind = kind;
    this.parent = parent;
    this.createdAt = performance.now();
    this.#site = site;
    this.deadline = parent?.deadline;
    this.deadlineSignal = parent?.deadlineSignal;
  }

  /** The given name, its function's name, or `task#<id>`. */
  get name(): string {
    if (this.#name === undefined) {
      this.#name = this.#nameFrom?.name || `task#${this.id}`;
      this.#nameFrom = undefined;
    }
    return this.#name;
  }

  /** Where the task was created (spawned, or where its scope began). */
  get site(): Site | undefined {
    const s = this.#site;
    return s instanceof LazySite ? s.site : s;
  }

  /**
   * Milliseconds since creation, or its lifetime once it failed or was cancelled (a fulfilled
   * task's end is not timed: that would cost a clock read on every spawn's hot path).
   */
  get ageMs(): number {
    return (this.settledAt ?? performance.now()) - this.createdAt;
  }

  /** True when `other` is this task or one of its ancestors. */
  isWithin(other: TaskRecord): boolean {
    if (this === other) return true;
    for (let t = this.parent; t; t = t.parent) if (t === other) return true;
    return false;
  }

  /** "name (task #id)" for messages. */
  toString(): string {
    return this.name;
  }
}

const storage = processWide("taskStorage", () => new AsyncLocalStorage<TaskRecord>());

/** The task the caller runs in, or undefined outside every task. About 5 ns. */
export function currentTask(): TaskRecord | undefined {
  return storage.getStore();
}

/** Runs `fn` with `task` as the current task (for its whole async continuation). */
export function runInTask<R, A extends unknown[] = []>(task: TaskRecord, fn: (...args: A) => R, ...args: A): R {
  return storage.run(task, fn, ...args);
}

/** Runs `fn` outside any task. */
export function runOutsideTasks<R>(fn: () => R): R {
  return storage.exit(fn);
}
