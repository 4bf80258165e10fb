/**
 * A shared value that knows who read it. The seed's counter race — read, await, write the
 * value computed from the read — loses updates silently; `Shared<T>` gives an atomic
 * `update()` and reports a `lost-update` when a task writes from a read that another task's
 * write made stale.
 */
import { performance } from "node:perf_hooks";
import { getConfig, isDebug } from "../core/config.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Subject } from "../core/diagnosis.js";
import { captureSite, formatSite, LazySite } from "../core/site.js";
import type { Site } from "../core/site.js";
import { currentActivation } from "../core/await-graph.js";
import { currentTask } from "../core/task.js";

/**
 * Who reads and writes: the async call that runs now (debug mode, where the await graph gives
 * every async call an identity, so plain Promise.all siblings are told apart), else the task.
 */
interface Actor {
  readonly name: string;
}
const currentActor = (): Actor | undefined => currentActivation() ?? currentTask();
import { InvalidArgTypeError, isThenable, validateFunction, validateObject, validateOptionalString } from "../core/validate.js";

/** Options of a {@link Shared} value. */
export interface SharedOptions {
  /** A name for reports; by default the file:line that constructed it. */
  name?: string;
  /**
   * Remember where each read and write happened, so a report names the read site and both
   * write sites (default: in debug mode only; a stack costs microseconds per access).
   */
  captureSites?: boolean;
}

interface ReadMark {
  version: number;
  value: unknown;
  site: LazySite | undefined;
}

interface WriteMark {
  readonly task: Actor | undefined;
  readonly site: LazySite | undefined;
}

let sharedCount = 0;
const noop = () => {};

/**
 * A value shared between tasks, with an atomic read-modify-write and lost-update detection.
 *
 * Detection needs to know which task reads and which writes: it works inside tasks
 * (`spawn`, a `TaskGroup`'s tasks, `runExclusive` scopes). Plain async functions gathered with
 * `Promise.all` share one context, so there it stays silent rather than guess.
 *
 * @example
 * ```ts
 * const hits = new Shared(0, { name: "hits" });
 * await hits.update((n) => n + 1);          // atomic: never loses an increment
 *
 * const n = hits.get();                     // the bug: read, await, write from the stale read
 * await save();
 * hits.set(n + 1);                          // reported as lost-update if another task wrote meanwhile
 * ```
 */
export class Shared<T> {
  readonly name: string;
  #value: T;
  #version = 0;
  #lastWrite: WriteMark | undefined;
  // Per task: the version and value it last read (a WeakMap, so finished tasks cost nothing).
  readonly #reads = new WeakMap<Actor, ReadMark>();
  readonly #captureSites: boolean | undefined;
  readonly #site: LazySite;
  #queue: Promise<unknown> | undefined;
  // updates running or queued; while non-zero a new update waits its turn
  #busy = 0;
  readonly #reported = new Set<string>();

  constructor(initial: T, options: SharedOptions = {}) {
    validateObject(options, "options");
    validateOptionalString(options.name, "options.name");
    if (options.captureSites !== undefined && typeof options.captureSites !== "boolean") {
      throw new InvalidArgTypeError("options.captureSites", "of type boolean", options.captureSites);
    }
    this.#value = initial;
    this.#captureSites = options.captureSites;
    // a long-lived object: its construction site is worth a stack
    this.#site = new LazySite(Shared);
    this.name = options.name ?? `shared#${++sharedCount}`;
  }

  /** Where it was constructed. */
  get site(): Site | undefined {
    return this.#site.site;
  }

  /** How many writes it has had. */
  get version(): number {
    return this.#version;
  }

  /** Reads the value; inside a task, remembers the read so a stale write can be detected. */
  get(): T {
    const task = currentActor();
    if (task) {
      const mark = this.#reads.get(task);
      const site = this.#sites() ? new LazySite(this.get) : undefined;
      if (mark) {
        mark.version = this.#version;
        mark.value = this.#value;
        mark.site = site;
      } else {
        this.#reads.set(task, { version: this.#version, value: this.#value, site });
      }
    }
    return this.#value;
  }

  /**
   * Writes the value. When this task read the value earlier and another task has written it
   * since, the write is computed from a stale read: a `lost-update` is reported (the write
   * still happens).
   */
  set(value: T): void {
    const task = currentActor();
    if (task) this.#checkStale(task, this.set);
    this.#commit(value, task, this.#sites() ? new LazySite(this.set) : undefined);
  }

  /**
   * Atomic read-modify-write: `fn` gets the current value and returns the new one (or a
   * promise of it). Updates run one at a time, in call order, so none is lost; a plain `set()`
   * by another task while an async updater runs is reported as a `lost-update`.
   */
  update(fn: (current: T) => T | PromiseLike<T>): Promise<T> {
    validateFunction(fn, "fn");
    const task = currentActor();
    const site = this.#sites() ? new LazySite(this.update) : undefined;
    if (this.#busy === 0) {
      const applied = this.#apply(fn, task, site);
      if (this.#busy > 0) this.#queue = applied;
      return applied;
    }
    // counted from the moment it is queued, so no later update can overtake it
    this.#busy++;
    const run = () => {
      this.#busy--;
      return this.#apply(fn, task, site);
    };
    const next = (this.#queue ?? Promise.resolve()).then(run, run);
    this.#queue = next;
    return next;
  }

  #apply(fn: (current: T) => T | PromiseLike<T>, task: Actor | undefined, site: LazySite | undefined): Promise<T> {
    const readVersion = this.#version;
    const readValue = this.#value;
    let result: T | PromiseLike<T>;
    try {
      result = fn(readValue);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!isThenable(result)) {
      this.#commit(result, task, site);
      return Promise.resolve(result);
    }
    this.#busy++;
    const watch = this.#watchUpdater(task, site);
    return Promise.resolve(result).then(
      (value) => {
        watch();
        this.#busy--;
        if (this.#version !== readVersion && !Object.is(this.#value, readValue)) {
          this.#reportLost(task, undefined, this.#lastWrite, "update", () => site?.site);
        }
        this.#commit(value, task, site);
        return value;
      },
      (err: unknown) => {
        watch();
        this.#busy--;
        throw err;
      },
    );
  }

  /**
   * An async updater that never settles would block every later update() without a word:
   * past longWaitMs it is reported as a long wait is (and retracted if it settles after all).
   * Returns the function to call when it settles.
   */
  #watchUpdater(task: Actor | undefined, site: LazySite | undefined): () => void {
    const ms = getConfig().longWaitMs;
    if (ms === 0) return noop;
    const since = performance.now();
    let reportedId: string | undefined;
    const timer = setTimeout(() => {
      const waiting = this.#busy - 1;
      reportedId = report(
        createDiagnosis({
          rule: "long-wait",
          certainty: "observed",
          summary: `the async updater of "${this.name}"${task ? ` in task "${task.name}"` : ""} has not settled after ${Math.round(performance.now() - since)} ms; ${waiting} later update() call(s) wait behind it`,
          subjects: [
            { kind: "resource", name: this.name, role: "shared value", site: this.site },
            { kind: "code", name: "update()", role: "the updater still running", site: site?.site },
          ],
          site: site?.site,
          fix: `find what the updater awaits: an updater runs alone, so it should not wait on slow I/O; give that await a timeout (withTimeout) or compute the new value before calling update()`,
          data: { waitedMs: Math.round(performance.now() - since), waiting },
        }),
      ).id;
    }, ms);
    timer.unref();
    return () => {
      clearTimeout(timer);
      if (reportedId === undefined) return;
      report(
        createDiagnosis({
          rule: "long-wait",
          certainty: "observed",
          summary: `the async updater of "${this.name}" settled after ${Math.round(performance.now() - since)} ms`,
          subjects: [{ kind: "resource", name: this.name, role: "shared value", site: this.site }],
          site: site?.site,
          retracts: reportedId,
          fix: "nothing to do if this was expected; a repeated long wait points at slow work inside the updater",
        }),
      );
    };
  }

  #sites(): boolean {
    return this.#captureSites ?? isDebug();
  }

  #checkStale(task: Actor, above: Function): void {
    const mark = this.#reads.get(task);
    const last = this.#lastWrite;
    if (!mark || mark.version === this.#version || !last || last.task === task) return;
    // the other writes put the value back: nothing this task read has changed
    if (Object.is(mark.value, this.#value)) return;
    this.#reportLost(task, mark, last, "set", () => captureSite(above));
  }

  #commit(value: T, task: Actor | undefined, site: LazySite | undefined): void {
    this.#value = value;
    this.#version++;
    this.#lastWrite = { task, site };
    if (task) {
      const mark = this.#reads.get(task);
      // what a task wrote is what it now knows: its next write is checked against this one
      if (mark) {
        mark.version = this.#version;
        mark.value = value;
      }
    }
  }

  #reportLost(task: Actor | undefined, read: ReadMark | undefined, other: WriteMark | undefined, how: string, here: () => Site | undefined): void {
    const writeSite = here();
    // once per place: a racing loop would otherwise report on every iteration
    const key = `${how}@${formatSite(writeSite)}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    const me = task ? `task "${task.name}"` : "an update";
    const them = other?.task ? `task "${other.task.name}"` : "another writer";
    const subjects: Subject[] = [
      { kind: "resource", name: this.name, role: "shared value", site: this.site },
      { kind: "task", name: task?.name ?? "<unknown task>", role: how === "update" ? "updated from a stale read" : "wrote from a stale read", site: writeSite },
    ];
    if (read?.site?.site) subjects.push({ kind: "code", name: `get() in ${me}`, role: "the stale read", site: read.site.site });
    subjects.push({ kind: "task", name: other?.task?.name ?? "<unknown task>", role: "whose write was lost", site: other?.site?.site });
    const d = createDiagnosis({
      rule: "lost-update",
      certainty: "observed",
      summary:
        how === "update"
          ? `lost update on "${this.name}": ${them} set it while the async updater of ${me} was running, and the updater's result overwrote that write`
          : `lost update on "${this.name}": ${me} read it, awaited, and wrote a value computed from that read after ${them} had changed it; ${them}'s write is lost`,
      subjects,
      site: writeSite,
      fix:
        how === "update"
          ? `make every writer of "${this.name}" go through update(), so writes are serialized`
          : `make the read-modify-write of "${this.name}" one atomic update((v) => …) call, or hold one Mutex across the read, the await and the write`,
      data: { version: this.#version },
    });
    report(d);
  }
}
