/**
 * The timeline: a bounded ring of task and lock events, recorded from asyncdoctor's
 * diagnostics channels, for the HTML report's timeline of acquires and waits.
 *
 * It subscribes only while started, so a program that never records pays nothing (publishers
 * check `hasSubscribers` first).
 */
import diagnosticsChannel from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import { channelNames } from "../core/channels.js";
import type { Site } from "../core/site.js";
import type { TaskState } from "../core/task.js";
import { validateInteger, validateObject } from "../core/validate.js";

/** What happened. */
export type TimelineEventKind = "spawn" | "settle" | "wait" | "acquire" | "release" | "abandon";

/** One recorded event: plain data, safe to serialise. */
export interface TimelineEvent {
  readonly kind: TimelineEventKind;
  /** When (ms since the epoch, sub-millisecond precision). */
  readonly time: number;
  readonly taskId: number | undefined;
  readonly taskName: string | undefined;
  /**
   * For lock events inside a `runExclusive`/`use` scope: the task the scope runs in (the
   * nearest enclosing spawned task, else the outermost scope), so a report can draw them together.
   */
  readonly ownerId?: number | undefined;
  readonly ownerName?: string | undefined;
  /**
   * For spawn: the parent task's id. For a lock event: the parent of its task — for an acquire
   * by a new `runExclusive`/`use` scope, the task that waited.
   */
  readonly parentId?: number | undefined;
  /** For settle: how the task ended. */
  readonly state?: TaskState | undefined;
  /** For lock events: a number unique per primitive within this recorder. */
  readonly lockId?: number | undefined;
  readonly lockName?: string | undefined;
  /** "mutex", "semaphore", "rwlock", "pool". */
  readonly lockKind?: string | undefined;
  readonly permits?: number | undefined;
  readonly mode?: "read" | "write" | undefined;
  /** For abandon: why the waiter left ("timeout", "abort", "cancel"). */
  readonly reason?: string | undefined;
  readonly site?: Site | undefined;
}

/** Options of {@link TimelineRecorder}. */
export interface TimelineOptions {
  /** How many events to keep; the oldest are dropped first. Default 2,000. */
  capacity?: number;
}

const lockChannels: ReadonlyArray<[string, TimelineEventKind]> = [
  [channelNames.lockWait, "wait"],
  [channelNames.lockAcquire, "acquire"],
  [channelNames.lockRelease, "release"],
  [channelNames.lockAbandon, "abandon"],
];

interface TaskLike {
  readonly id?: unknown;
  readonly name?: unknown;
  readonly kind?: unknown;
  readonly parent?: TaskLike | undefined;
}

/** The task a scope runs in: up the chain of scopes to the first spawned task, else the top scope. */
function ownerOf(task: unknown): { ownerId: number | undefined; ownerName: string | undefined } {
  if (task === null || typeof task !== "object" || (task as TaskLike).kind !== "scope") return { ownerId: undefined, ownerName: undefined };
  let t = task as TaskLike;
  for (let depth = 0; t.kind === "scope" && t.parent && depth < 64; depth++) t = t.parent;
  return typeof t.id === "number"
    ? { ownerId: t.id, ownerName: typeof t.name === "string" ? t.name : undefined }
    : { ownerId: undefined, ownerName: undefined };
}

function taskFields(task: unknown): { taskId: number | undefined; taskName: string | undefined; parentId: number | undefined } {
  if (task === null || typeof task !== "object") return { taskId: undefined, taskName: undefined, parentId: undefined };
  const t = task as TaskLike;
  return {
    taskId: typeof t.id === "number" ? t.id : undefined,
    taskName: typeof t.name === "string" ? t.name : undefined,
    parentId: typeof t.parent?.id === "number" ? t.parent.id : undefined,
  };
}

function asSite(v: unknown): Site | undefined {
  if (v === null || typeof v !== "object") return undefined;
  const s = v as Partial<Site>;
  return typeof s.file === "string" && typeof s.line === "number" ? (s as Site) : undefined;
}

/**
 * Records task and lock events into a bounded ring.
 *
 * @example
 * ```ts
 * import { TimelineRecorder, renderHtml, snapshot } from "asyncdoctor";
 * const timeline = new TimelineRecorder({ capacity: 500 }).start();
 * await work();
 * writeFileSync("report.html", renderHtml({ diagnoses, snapshot: snapshot(), timeline: timeline.events() }));
 * timeline.stop();
 * ```
 */
export class TimelineRecorder implements Disposable {
  readonly capacity: number;
  readonly #ring: (TimelineEvent | undefined)[];
  #next = 0;
  #size = 0;
  #dropped = 0;
  #running = false;
  // identity of primitives without keeping them alive
  readonly #lockIds = new WeakMap<object, number>();
  #nextLockId = 1;
  readonly #handlers: Array<[string, (message: unknown) => void]>;

  constructor(options: TimelineOptions = {}) {
    validateObject(options, "options");
    const capacity = options.capacity ?? 2000;
    validateInteger(capacity, "options.capacity", 1, 1_000_000);
    this.capacity = capacity;
    this.#ring = new Array<TimelineEvent | undefined>(capacity);
    this.#handlers = [
      [channelNames.taskSpawn, (m) => this.#onTask("spawn", m)],
      [channelNames.taskSettle, (m) => this.#onTask("settle", m)],
      ...lockChannels.map(([name, kind]): [string, (m: unknown) => void] => [name, (m) => this.#onLock(kind, m)]),
    ];
  }

  /** Subscribes to the channels (idempotent); returns this. */
  start(): this {
    if (this.#running) return this;
    this.#running = true;
    for (const [name, fn] of this.#handlers) diagnosticsChannel.subscribe(name, fn);
    return this;
  }

  /** Unsubscribes (idempotent); the recorded events stay. */
  stop(): this {
    if (!this.#running) return this;
    this.#running = false;
    for (const [name, fn] of this.#handlers) diagnosticsChannel.unsubscribe(name, fn);
    return this;
  }

  /** True while subscribed. */
  get running(): boolean {
    return this.#running;
  }

  /** How many events were dropped because the ring was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The recorded events, oldest first. */
  events(): TimelineEvent[] {
    const out: TimelineEvent[] = [];
    const start = (this.#next - this.#size + this.capacity) % this.capacity;
    for (let i = 0; i < this.#size; i++) {
      const e = this.#ring[(start + i) % this.capacity];
      if (e) out.push(e);
    }
    return out;
  }

  /** Forgets every recorded event. */
  clear(): void {
    this.#ring.fill(undefined);
    this.#next = 0;
    this.#size = 0;
    this.#dropped = 0;
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  #push(e: TimelineEvent): void {
    this.#ring[this.#next] = e;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
    else this.#dropped++;
  }

  #onTask(kind: "spawn" | "settle", message: unknown): void {
    if (message === null || typeof message !== "object") return;
    const m = message as { task?: unknown; state?: unknown };
    const { taskId, taskName, parentId } = taskFields(m.task);
    const site = kind === "spawn" ? asSite((m.task as { site?: unknown } | undefined)?.site) : undefined;
    this.#push({
      kind,
      time: performance.timeOrigin + performance.now(),
      taskId,
      taskName,
      parentId: kind === "spawn" ? parentId : undefined,
      state: kind === "settle" && typeof m.state === "string" ? (m.state as TaskState) : undefined,
      site,
    });
  }

  #onLock(kind: TimelineEventKind, message: unknown): void {
    if (message === null || typeof message !== "object") return;
    const m = message as { lock?: unknown; task?: unknown; permits?: unknown; mode?: unknown; site?: unknown; reason?: unknown };
    const lock = m.lock !== null && typeof m.lock === "object" ? (m.lock as { name?: unknown; kind?: unknown }) : undefined;
    let lockId: number | undefined;
    if (lock) {
      lockId = this.#lockIds.get(lock);
      if (lockId === undefined) this.#lockIds.set(lock, (lockId = this.#nextLockId++));
    }
    const { taskId, taskName, parentId } = taskFields(m.task);
    const { ownerId, ownerName } = ownerOf(m.task);
    this.#push({
      kind,
      time: performance.timeOrigin + performance.now(),
      taskId,
      taskName,
      ownerId,
      ownerName,
      parentId,
      lockId,
      lockName: typeof lock?.name === "string" ? lock.name : undefined,
      lockKind: typeof lock?.kind === "string" ? lock.kind : undefined,
      permits: typeof m.permits === "number" ? m.permits : undefined,
      mode: m.mode === "read" || m.mode === "write" ? m.mode : undefined,
      reason: kind === "abandon" && typeof m.reason === "string" ? m.reason : undefined,
      site: asSite(m.site),
    });
  }
}
