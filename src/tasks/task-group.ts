/**
 * TaskGroup: structured concurrency (asyncio.TaskGroup, Trio's nurseries). The group waits for
 * all of its tasks; the first failure aborts the others; every failure comes out in one error.
 */
import { AbortError, ClosedError } from "../core/errors.js";
import { registerTaskSource, unregisterTaskSource } from "../core/registry.js";
import type { TaskSource } from "../core/registry.js";
import type { TaskRecord } from "../core/task.js";
import type { TaskState } from "../core/task.js";
import { formatSite } from "../core/site.js";
import type { Site } from "../core/site.js";
import { InvalidArgTypeError, validateFunction, validateObject, validateOptionalString, validateSignal } from "../core/validate.js";
import { LiveList } from "./live-list.js";
import { checkSpawnArgs, shouldCaptureSites, Task } from "./task.js";
import type { Spawnable, SpawnOptions, TaskOwner } from "./task.js";

/** One failed task of a group. */
export interface TaskFailure {
  readonly task: string;
  readonly site: Site | undefined;
  readonly error: unknown;
}

/**
 * Every failure of a group, none dropped: the seed's `gather(return_exceptions=True)` lesson.
 * `errors` holds the errors; `failures` pairs each with its task's name and spawn site.
 */
export class TaskGroupError extends AggregateError {
  readonly code = "ASYNCDOCTOR_TASK_GROUP_FAILED";
  readonly failures: readonly TaskFailure[];
  readonly group: string;
  constructor(group: string, failures: readonly TaskFailure[]) {
    const lines = failures.map((f) => {
      const msg = f.error instanceof Error ? `${f.error.name}: ${f.error.message}` : String(f.error);
      return `  - task "${f.task}"${f.site ? ` (spawned at ${formatSite(f.site)})` : ""}: ${msg.replace(/\n/g, "\n    ")}`;
    });
    super(
      failures.map((f) => f.error),
      `${failures.length} task(s) failed in group "${group}":\n${lines.join("\n")}`,
    );
    this.name = "TaskGroupError";
    this.group = group;
    this.failures = failures;
  }
}

/** Options of a group. */
export interface TaskGroupOptions {
  name?: string;
  /** An outside signal that aborts every task of the group. */
  signal?: AbortSignal;
  /** Capture spawn sites (default: debug mode only). */
  captureSites?: boolean;
}

let groupCount = 0;

/**
 * A scope that owns its tasks: none outlives it, none fails unseen.
 *
 * @example
 * ```ts
 * const [a, b] = await TaskGroup.run(async (group) => {
 *   const a = group.spawn((signal) => fetchUser(1, signal), { name: "user-1" });
 *   const b = group.spawn((signal) => fetchUser(2, signal), { name: "user-2" });
 *   return [a, b] as const;
 * });
 * // or
 * {
 *   await using group = new TaskGroup({ name: "import" });
 *   for (const file of files) group.spawn(() => importFile(file), { name: file });
 * } // waits here; throws TaskGroupError listing every failure
 * ```
 */
export class TaskGroup implements TaskOwner, TaskSource {
  readonly name: string;
  readonly collectsFailures = true;
  readonly #controller = new AbortController();
  readonly #live = new LiveList<Task<unknown>>();
  readonly #failures: TaskFailure[] = [];
  readonly #captureSites: boolean | undefined;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(options: TaskGroupOptions = {}) {
    validateObject(options, "options");
    validateOptionalString(options.name, "options.name");
    validateSignal(options.signal, "options.signal");
    if (options.captureSites !== undefined && typeof options.captureSites !== "boolean") {
      throw new InvalidArgTypeError("options.captureSites", "of type boolean", options.captureSites);
    }
    this.name = options.name ?? `group#${++groupCount}`;
    this.#captureSites = options.captureSites;
    const outer = options.signal;
    if (outer) {
      if (outer.aborted) this.#controller.abort(outer.reason);
      else outer.addEventListener("abort", () => this.abort(outer.reason), { once: true });
    }
  }

  /**
   * Runs `body` with a new group, then waits for every task the body spawned. Resolves to the
   * body's result; rejects with a TaskGroupError holding every failure (the body's included).
   */
  static async run<T>(body: (group: TaskGroup) => T | PromiseLike<T>, options?: TaskGroupOptions): Promise<Awaited<T>> {
    validateFunction(body, "body");
    const group = new TaskGroup(options);
    let result: Awaited<T>;
    try {
      result = await body(group);
    } catch (err) {
      group.#fail("<group body>", undefined, err);
      await group.#finish();
      throw err; // #finish throws when there are failures; this is only for the type checker
    }
    await group.#finish();
    return result;
  }

  get label(): string {
    return `group "${this.name}"`;
  }

  /** The group's signal: aborted at the first failure or by abort(). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True once the group stopped accepting tasks. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Starts a task owned by the group. Its signal aborts when any sibling fails. */
  spawn<T>(task: Spawnable<T>, options?: SpawnOptions): Task<T> {
    checkSpawnArgs(task, options);
    if (this.#closed) {
      throw new ClosedError(`${this.label} is closed: cannot spawn ${options?.name ? `"${options.name}"` : "a new task"}; spawn inside the group's scope`);
    }
    // The group aborts its live tasks itself (see abort()); only a task spawned into an
    // already-aborted group is handed the group's signal. (One listener per task on the
    // group's signal would cost memory and trip Node's max-listeners warning.)
    const groupSignal = this.#controller.signal;
    const signal = groupSignal.aborted ? groupSignal : options?.signal;
    const t = new Task<T>(task, { name: options?.name, signal }, this, shouldCaptureSites(this.#captureSites));
    t.markObserved();
    if (this.#live.size === 0) registerTaskSource(this);
    this.#live.add(t);
    return t;
  }

  /** Aborts every task of the group. */
  abort(reason?: unknown): void {
    const signal = this.#controller.signal;
    if (signal.aborted) return;
    this.#controller.abort(reason ?? new AbortError(`${this.label} was aborted`));
    for (const t of this.#live) t.abort(signal.reason);
  }

  /** @internal */
  liveRecords(): Iterable<TaskRecord> {
    return [...this.#live].map((t) => t.record);
  }

  /** @internal */
  onSettle(task: Task<unknown>, state: TaskState, error: unknown): void {
    this.#live.delete(task);
    if (this.#live.size === 0) unregisterTaskSource(this);
    // A task that stopped because it was aborted is cancelled, not a failure; a new error is one.
    if (state === "rejected") {
      this.#fail(task.name, task.site, error);
    }
    if (this.#live.size === 0 && this.#idle.length > 0) {
      const w = this.#idle;
      this.#idle = [];
      for (const f of w) f();
    }
  }

  #fail(name: string, site: Site | undefined, error: unknown): void {
    this.#failures.push({ task: name, site, error });
    this.abort(new AbortError(`${this.label}: task "${name}" failed, so its siblings are aborted`, { cause: error }));
  }

  async #finish(): Promise<void> {
    while (this.#live.size > 0) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    this.#closed = true;
    if (this.#failures.length > 0) throw new TaskGroupError(this.name, this.#failures);
  }

  /** Waits for every task, closes the group, and throws TaskGroupError if any failed. */
  async wait(): Promise<void> {
    await this.#finish();
  }

  /** `await using group = new TaskGroup()` waits for the tasks at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#finish();
  }
}
