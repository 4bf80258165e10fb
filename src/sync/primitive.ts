/**
 * The engine every primitive shares: a count of free permits, the leases that hold them, and a
 * FIFO queue of waiters. A mutex is one permit, a semaphore N, an RWLock writer takes them all.
 * Detection (re-entrance, cycles, pool exhaustion) runs only when an acquire actually blocks.
 */
import { executionAsyncResource } from "node:async_hooks";
import { performance } from "node:perf_hooks";
import { channels } from "../core/channels.js";
import { isDebug } from "../core/config.js";
import { AbortError, TimeoutError } from "../core/errors.js";
import { createDiagnosis } from "../core/diagnosis.js";
import type { Site } from "../core/site.js";
import { LazySite, relativeFile } from "../core/site.js";
import { currentTask, runInTask, TaskRecord } from "../core/task.js";
import type { HolderInfo, WaitInfo, WaitTarget } from "../core/task.js";
import { validateFunction, validateObject, validateOptionalString, validateSignal, validateTimeoutMs } from "../core/validate.js";
import { findDeadlock, holdsCertainly, inOwnFlow, indexWait, unindexWait } from "./wait-graph.js";
import { checkLockOrder } from "./lock-order.js";
import { retractLongWait, watchWait } from "./long-wait.js";
import { registerPrimitive } from "./live-primitives.js";
import { Lease, ReleaseError } from "./lease.js";
import { holderWaiting, taskLabel } from "./names.js";

/** Options of every `acquire`. */
export interface AcquireOptions {
  /** Gives up the wait when the signal aborts (rejects with an `AbortError`). */
  signal?: AbortSignal;
  /** Gives up the wait after this many ms (rejects with a `TimeoutError` naming the holders). */
  timeout?: number;
}

/** Options every primitive's constructor accepts. */
export interface PrimitiveOptions {
  /** A name for reports; also its lock class for lock-order checks. Default: where it was constructed. */
  name?: string;
  /** Record where each holder acquired (default: in debug mode only; a stack costs microseconds). */
  captureSites?: boolean;
}

/** How the holder of a grant is decided. */
export const HolderKind = {
  /** A bare acquire: the caller's task holds (uncertain identity). */
  Bare: 0,
  /** runExclusive/use: a fresh scope, child of the caller, holds. */
  NewScope: 1,
  /** lockAll with a callback: a scope made beforehand holds. */
  Given: 2,
} as const;
export type HolderKind = (typeof HolderKind)[keyof typeof HolderKind];

/** A blocked acquire. */
export class Waiter implements WaitInfo {
  readonly prim: Primitive;
  readonly task: TaskRecord | undefined;
  readonly need: number;
  readonly mode: "read" | "write" | undefined;
  readonly holderKind: HolderKind;
  readonly given: TaskRecord | undefined;
  readonly since: number;
  /** Higher goes first (compat only; asyncdoctor's own primitives are strictly FIFO). */
  readonly priority: number;
  #site: LazySite | undefined;
  resolve!: (lease: Lease<unknown>) => void;
  reject!: (err: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** The long-wait Diagnosis id, once reported (so the end of the wait can retract it). */
  longWaitId: string | undefined;
  indexed = false;
  done = false;

  constructor(prim: Primitive, task: TaskRecord | undefined, need: number, mode: "read" | "write" | undefined, holderKind: HolderKind, given: TaskRecord | undefined, site: LazySite | undefined, priority: number) {
    this.prim = prim;
    this.priority = priority;
    this.task = task;
    this.need = need;
    this.mode = mode;
    this.holderKind = holderKind;
    this.given = given;
    this.since = performance.now();
    this.#site = site;
  }

  /** WaitInfo: what is waited on. */
  get target(): WaitTarget {
    return this.prim;
  }

  /** Where the wait began, when captured. */
  get site(): Site | undefined {
    return this.#site?.site;
  }

  /** @internal */
  get lazySite(): LazySite | undefined {
    return this.#site;
  }
}

let nextPrimitiveId = 1;
const noop = () => {};

/**
 * The shared engine. Not constructed directly: use {@link Mutex}, {@link Semaphore},
 * {@link RWLock} or {@link Pool}.
 */
export abstract class Primitive implements WaitTarget {
  /** Unique in the process; also the canonical order of `lockAll`. */
  readonly id: number;
  /** "mutex", "semaphore", "rwlock", "pool". */
  readonly kind: string;
  /** @internal Total permits (the async-mutex compat layer may change it). */
  _capacity: number;
  /** @internal Called after permits were returned or a waiter left (compat's waitForUnlock). */
  _onChange: (() => void) | undefined;
  /** @internal Free permits. */
  _free: number;
  /** @internal The leases that hold permits now. */
  readonly _holds: Lease<unknown>[] = [];
  /** @internal The wait-for graph search's visit stamp. */
  _seen = 0;
  /** @internal FIFO. */
  readonly _queue: Waiter[] = [];
  readonly #captureOption: boolean | undefined;
  readonly #givenName: string | undefined;
  #name: string | undefined;
  #scopeName: string | undefined;
  readonly #site: LazySite | undefined;

  constructor(kind: string, capacity: number, opts: PrimitiveOptions | undefined, above: Function) {
    const options: PrimitiveOptions | undefined = opts;
    if (options !== undefined) {
      validateObject(opts, "options");
      validateOptionalString(options.name, "options.name");
      if (options.captureSites !== undefined && typeof options.captureSites !== "boolean") {
        throw new TypeError(`The "options.captureSites" argument must be of type boolean. Received ${typeof options.captureSites}`);
      }
    }
    this.id = nextPrimitiveId++;
    this.kind = kind;
    this._capacity = capacity;
    this._free = capacity;
    this.#givenName = options?.name;
    this.#captureOption = options?.captureSites;
    // a long-lived object: its construction site is its default name and lock class
    this.#site = new LazySite(above);
    registerPrimitive(this);
  }

  /** The given name, else `file:line` of the construction. Also its lock class. */
  get name(): string {
    if (this.#name === undefined) {
      const s = this.#givenName === undefined ? this.#site?.site : undefined;
      this.#name = this.#givenName ?? (s ? `${relativeFile(s.file)}:${s.line}` : `${this.kind}#${this.id}`);
    }
    return this.#name;
  }

  /** Where it was constructed. */
  get site(): Site | undefined {
    return this.#site?.site;
  }

  /** Who holds it now (WaitTarget). */
  holders(): readonly HolderInfo[] {
    return this._holds;
  }

  /** @internal Whether acquires record their site: the option, else debug mode (read each time, so configure() applies at once). */
  get _captureSites(): boolean {
    return this.#captureOption ?? isDebug();
  }

  /** How many acquires are queued. */
  get waiting(): number {
    return this._queue.length;
  }

  /** The name a holder scope gets when the caller runs outside any task (reports add its id). */
  get _scopeName(): string {
    return (this.#scopeName ??= `${this.name} holder`);
  }

  /**
   * @internal The one acquire path. Returns a Lease at once when the permits are free and
   * nobody queues (FIFO: a free permit never jumps the queue), else a promise of one.
   */
  _request(
    need: number,
    mode: "read" | "write" | undefined,
    holderKind: HolderKind,
    given: TaskRecord | undefined,
    options: AcquireOptions | undefined,
    above: Function,
    priority = 0,
  ): Lease<unknown> | Promise<Lease<unknown>> {
    const task = holderKind === HolderKind.Given ? given : currentTask();
    if (task !== undefined && task.held !== undefined) checkLockOrder(this, task, above);
    if ((this._queue.length === 0 || this._queue[0]!.priority < priority) && this._free >= need) {
      return this._grant(task, need, mode, holderKind, given, this._captureSites ? new LazySite(above) : undefined);
    }
    return this.#block(task, need, mode, holderKind, given, options, above, priority);
  }

  /** @internal A non-blocking attempt: a lease, or undefined when it would wait. */
  _try(need: number, mode: "read" | "write" | undefined, above: Function): Lease<unknown> | undefined {
    if (this._queue.length !== 0 || this._free < need) return undefined;
    const task = currentTask();
    if (task !== undefined && task.held !== undefined) checkLockOrder(this, task, above);
    return this._grant(task, need, mode, HolderKind.Bare, undefined, this._captureSites ? new LazySite(above) : undefined);
  }

  /** @internal */
  _grant(
    task: TaskRecord | undefined,
    need: number,
    mode: "read" | "write" | undefined,
    holderKind: HolderKind,
    given: TaskRecord | undefined,
    site: LazySite | undefined,
    waitedSince = 0,
  ): Lease<unknown> {
    let holder: TaskRecord | undefined;
    let since: number;
    if (holderKind === HolderKind.NewScope) {
      holder = new TaskRecord(task === undefined ? this._scopeName : task.name, "scope", task, site);
      since = holder.createdAt;
    } else {
      holder = holderKind === HolderKind.Given ? given : task;
      since = performance.now();
    }
    const lease = new Lease<unknown>(this, holder, since, need, mode, holderKind !== HolderKind.Bare && holder !== undefined, site);
    if (holderKind !== HolderKind.Bare) lease.startResource = executionAsyncResource();
    this._free -= need;
    this._holds.push(lease);
    if (holder !== undefined) {
      // a fresh scope has no list yet: one literal instead of an empty array and a push
      if (holder.held === undefined) holder.held = [lease];
      else holder.held.push(lease);
    }
    if (channels.lockAcquire.hasSubscribers) {
      channels.lockAcquire.publish({ lock: this, task: holder, permits: need, mode, waitedMs: waitedSince === 0 ? 0 : performance.now() - waitedSince });
    }
    return lease;
  }

  /** @internal Called by Lease.release(). */
  _release(lease: Lease<unknown>): void {
    const holds = this._holds;
    const i = holds.indexOf(lease);
    if (i === -1) throw new ReleaseError(`release(): the lease does not hold ${this.kind} "${this.name}"`);
    // remove without splice (which allocates the array of removed items): keep FIFO order of holders
    if (i === holds.length - 1) holds.pop();
    else holds.splice(i, 1);
    const held = lease.task?.held;
    if (held !== undefined) {
      const j = held.lastIndexOf(lease);
      if (j === held.length - 1) held.pop();
      else if (j !== -1) held.splice(j, 1);
    }
    this._free += lease.permits;
    if (channels.lockRelease.hasSubscribers) channels.lockRelease.publish({ lock: this, task: lease.task, permits: lease.permits, heldMs: performance.now() - lease.since });
    if (this._queue.length !== 0) this._dispatch();
    if (this._onChange !== undefined) this._onChange();
  }

  /** @internal Rejects every waiter (compat's cancel()); with `settle` false, drops them unsettled (p-limit's clearQueue). */
  _cancelAll(error: unknown, settle = true): void {
    for (const w of this._queue.slice()) {
      if (!settle) w.reject = noop;
      this.#giveUp(w, error, "cancel");
    }
  }

  /** @internal Changes the total (compat: setValue, release without a lease, p-limit's concurrency). */
  _resize(delta: number): void {
    this._capacity += delta;
    this._free += delta;
    if (this._queue.length !== 0) this._dispatch();
    if (this._onChange !== undefined) this._onChange();
  }

  /** Hands free permits to the waiters at the head of the queue, in order. */
  _dispatch(): void {
    const q = this._queue;
    while (q.length !== 0) {
      const w = q[0]!;
      if (w.need > this._free) break;
      q.shift();
      this.#endWait(w);
      const lease = this._grant(w.task, w.need, w.mode, w.holderKind, w.given, w.lazySite, w.since);
      w.resolve(lease);
    }
  }

  /**
   * The body of every scoped acquire (`runExclusive`, `read`/`write`): waits for `need` permits,
   * runs `fn` in the fresh scope that holds them (the identity detection relies on), and
   * releases when it settles. `what` names the call in option errors; `above` is the public
   * method, so a captured site is its caller.
   */
  protected async _runScoped<T>(
    fn: () => T | PromiseLike<T>,
    need: number,
    mode: "read" | "write" | undefined,
    options: AcquireOptions | undefined,
    what: string,
    above: Function,
  ): Promise<T> {
    validateFunction(fn, "fn");
    const o = options === undefined ? undefined : checkAcquireOptions(options, what);
    const got = this._request(need, mode, HolderKind.NewScope, undefined, o, above);
    const lease = got instanceof Lease ? got : await got;
    try {
      return await runInTask(lease.task!, fn);
    } finally {
      lease.release();
    }
  }

  /** Checks a lease handed back through `primitive.release(lease)`. */
  protected _checkOwnLease(lease: unknown, argName: string): Lease<unknown> {
    if (!(lease instanceof Lease)) {
      throw new TypeError(`The "${argName}" argument must be a Lease returned by acquire(). Received ${lease === null ? "null" : typeof lease}`);
    }
    if (lease.target !== this) {
      throw new ReleaseError(
        `release(): the lease belongs to ${lease.target.kind} "${lease.target.name}", not to ${this.kind} "${this.name}"; release it through its own primitive`,
      );
    }
    return lease as Lease<unknown>;
  }

  #block(
    task: TaskRecord | undefined,
    need: number,
    mode: "read" | "write" | undefined,
    holderKind: HolderKind,
    given: TaskRecord | undefined,
    options: AcquireOptions | undefined,
    above: Function,
    priority: number,
  ): Promise<Lease<unknown>> {
    // a waiter that may close a cycle gets its site now: the report will want it
    const involved = task !== undefined && holdsCertainly(task) && inOwnFlow(task);
    // a few frames are enough: `above` is the public method, so the first frame is its caller
    const site = this._captureSites || involved ? new LazySite(above, 6) : undefined;
    const w = new Waiter(this, task, need, mode, holderKind, given, site, priority);
    const promise = new Promise<Lease<unknown>>((resolve, reject) => {
      w.resolve = resolve as (lease: Lease<unknown>) => void;
      w.reject = reject;
    });
    const q = this._queue;
    let at = q.length;
    while (at > 0 && q[at - 1]!.priority < priority) at--;
    if (at === q.length) q.push(w);
    else q.splice(at, 0, w);
    if (task !== undefined) task.waitingOn = w;
    if (involved) {
      indexWait(w);
      const limited = options?.timeout !== undefined || options?.signal !== undefined || task.deadline !== undefined;
      const error = findDeadlock(this, w, limited);
      if (error !== undefined) {
        this._queue.splice(this._queue.indexOf(w), 1);
        this.#endWait(w);
        w.reject(error);
        return promise;
      }
    }
    if (this._queue.length === 1) watchWait(this);
    if (channels.lockWait.hasSubscribers) channels.lockWait.publish({ lock: this, task, permits: need, mode });
    if (options !== undefined) {
      const { signal, timeout } = options;
      if (timeout !== undefined) {
        w.timer = setTimeout(() => this.#giveUp(w, this.#timeoutError(w, timeout), "timeout"), timeout);
      }
      if (signal !== undefined) {
        w.signal = signal;
        w.onAbort = () => this.#giveUp(w, new AbortError(`the wait for ${this.kind} "${this.name}" was aborted`, { cause: signal.reason }), "abort");
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
    }
    return promise;
  }

  /** A waiter leaves the queue without permits (timeout, abort): it can never take one later. */
  #giveUp(w: Waiter, error: unknown, reason: "timeout" | "abort" | "cancel"): void {
    if (w.done) return;
    const i = this._queue.indexOf(w);
    if (i !== -1) this._queue.splice(i, 1);
    this.#endWait(w);
    if (channels.lockAbandon.hasSubscribers) {
      channels.lockAbandon.publish({ lock: this, task: w.task, permits: w.need, mode: w.mode, reason, waitedMs: performance.now() - w.since });
    }
    w.reject(error);
    // the waiter may have been the head that blocked smaller requests behind it
    if (i === 0) this._dispatch();
    if (this._onChange !== undefined) this._onChange();
  }

  #endWait(w: Waiter): void {
    w.done = true;
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.onAbort !== undefined) w.signal?.removeEventListener("abort", w.onAbort);
    const t = w.task;
    if (t !== undefined && t.waitingOn === w) t.waitingOn = undefined;
    if (w.indexed) unindexWait(w);
    if (w.longWaitId !== undefined) retractLongWait(w);
  }

  #timeoutError(w: Waiter, timeout: number): TimeoutError {
    const now = performance.now();
    const holders = this._holds;
    const names = holders.map((h) => `"${taskLabel(h.task)}"`).join(", ");
    const elapsed = Math.round(now - w.since);
    const op = `acquire ${this.kind} "${this.name}"`;
    const diagnosis = createDiagnosis({
      rule: "timeout",
      certainty: "observed",
      summary: `${op} did not succeed within ${timeout} ms${names ? `: it is held by ${names}` : ""}${this._queue.length > 1 ? ` (${this._queue.length - 1} other waiter(s) queued)` : ""}`,
      subjects: [
        { kind: "task", name: taskLabel(w.task), role: "waiter", site: w.site, detail: `waited ${elapsed} ms` },
        { kind: "lock", name: this.name, role: this.kind, site: this.site },
        ...holders.map((h) => ({
          kind: "task" as const,
          name: taskLabel(h.task),
          role: "holder",
          site: h.site,
          detail: `held for ${Math.round(now - h.since)} ms${holderWaiting(h.task)}`,
        })),
      ],
      site: w.site,
      fix: names
        ? `see why ${names} keeps ${this.kind} "${this.name}" so long: release it before slow work, or raise the timeout if the work is just slow`
        : `raise the timeout, or shorten the work done while holding ${this.kind} "${this.name}"`,
      data: { timeoutMs: timeout, elapsedMs: elapsed },
    });
    return new TimeoutError(op, timeout, elapsed, diagnosis);
  }
}

/** Validates `{ signal, timeout }`; an already-aborted signal is an error of its own. */
export function checkAcquireOptions(options: unknown, what: string): AcquireOptions | undefined {
  if (options === undefined) return undefined;
  validateObject(options, "options");
  const o = options as AcquireOptions;
  validateSignal(o.signal, "options.signal");
  if (o.timeout !== undefined) validateTimeoutMs(o.timeout, "options.timeout", { allowInfinity: true });
  if (o.signal?.aborted) {
    throw new AbortError(`${what}: options.signal is already aborted; nothing was acquired`, { cause: o.signal.reason });
  }
  if (o.signal === undefined && (o.timeout === undefined || o.timeout === Infinity)) return undefined;
  return o.timeout === Infinity ? { signal: o.signal } : o;
}
