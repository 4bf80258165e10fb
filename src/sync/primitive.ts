/**
 * The engine every primitive shares: a count of free permits, the leases that hold them, and a
 * queue of waiters (FIFO, unless a compat entry gives it another {@link QueuePolicy}). A mutex
 * is one permit, a semaphore N, an RWLock writer takes them all.
 *
 * Blocking never judges anything by itself: an acquire made in a holder's context may be work
 * the holder does not wait for. What can be proven is proven from the await graph (when an
 * await or a holder's body makes a waiter part of a knot: wait-graph.ts), at the event loop's
 * drain (drain.ts), or reported as suspected once it has lasted (long-wait.ts).
 */
import { executionAsyncResource } from "node:async_hooks";
import { performance } from "node:perf_hooks";
import { awaitGraphOn, currentActivation, OpNode, setNode } from "../core/await-graph.js";
import type { Activation, AwaitNode } from "../core/await-graph.js";
import { channels } from "../core/channels.js";
import { isDebug } from "../core/config.js";
import { AbortError, TimeoutError } from "../core/errors.js";
import { createDiagnosis } from "../core/diagnosis.js";
import type { Site } from "../core/site.js";
import { LazySite, relativeFile } from "../core/site.js";
import { currentTask, runInTask, TaskRecord } from "../core/task.js";
import type { HolderInfo, WaitInfo, WaitTarget } from "../core/task.js";
import { validateFunction, validateObject, validateOptionalString, validateSignal, validateTimeoutMs } from "../core/validate.js";
import { bodyBound, suspectKnot } from "./wait-graph.js";
import { checkLockOrder } from "./lock-order.js";
import { retractLongWait, watchWait } from "./long-wait.js";
import { watchDrain } from "./drain.js";
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
  /** A bare acquire: the caller's task holds; anyone may release (never a proven party). */
  Bare: 0,
  /** runExclusive/use: a fresh scope, child of the caller, holds until its body settles. */
  NewScope: 1,
  /** lockAll with a callback: a scope made beforehand holds. */
  Given: 2,
} as const;
export type HolderKind = (typeof HolderKind)[keyof typeof HolderKind];

/** One acquire: what is asked for, by whom, and how it may wait. */
export interface AcquireRequest {
  readonly need: number;
  readonly mode: "read" | "write" | undefined;
  readonly holder: HolderKind;
  /** The holder scope, for HolderKind.Given. */
  readonly given?: TaskRecord | undefined;
  readonly options?: AcquireOptions | undefined;
  /** The public method called: a captured site is its caller's line. */
  readonly above: Function;
  /** Compat only: higher goes first under a priority policy. */
  readonly priority?: number;
}

/** Where a waiter goes in the queue, and whether a free permit may skip the queue. */
export interface QueuePolicy {
  /** True when a request may take free permits although others queue. */
  mayPass(queue: readonly Waiter[], req: AcquireRequest): boolean;
  /** The index at which a new waiter is inserted. */
  position(queue: readonly Waiter[], req: AcquireRequest): number;
}

/** asyncdoctor's own order: strictly first come, first served; a free permit never jumps the queue. */
export const fifo: QueuePolicy = {
  mayPass: (queue) => queue.length === 0,
  position: (queue) => queue.length,
};

/**
 * Signals that only an explicit cancel aborts (a compat queue's clearQueue() or cancel()), not a
 * time limit: a waiter listening to one is not "limited", so it can be part of a proven knot.
 */
const cancelOnlySignals = new WeakSet<AbortSignal>();

/**
 * Marks a signal as aborted only by an explicit cancel, never by time; returns it.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * await shadow.runExclusive(fn, { signal: markCancelOnly(controller.signal) });
 * ```
 */
export function markCancelOnly(signal: AbortSignal): AbortSignal {
  cancelOnlySignals.add(signal);
  return signal;
}

/** A blocked acquire. Also the await graph's leaf: whoever awaits it is blocked until it is granted. */
export class Waiter implements WaitInfo, AwaitNode {
  readonly kind = "leaf" as const;
  readonly prim: Primitive;
  readonly task: TaskRecord | undefined;
  readonly req: AcquireRequest;
  readonly since: number;
  readonly promise: Promise<Lease<unknown>>;
  /** The async call that asked (debug mode): names a waiter outside every task. */
  readonly activation: Activation | undefined;
  #site: LazySite | undefined;
  resolve!: (lease: Lease<unknown>) => void;
  reject!: (err: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  /** The long-wait Diagnosis id, once reported (so the end of the wait can retract it). */
  longWaitId: string | undefined;
  /** The rule that long-wait report had (a suspected knot has its class's rule). */
  longWaitRule: string | undefined;
  done = false;

  constructor(prim: Primitive, task: TaskRecord | undefined, req: AcquireRequest, site: LazySite | undefined) {
    this.prim = prim;
    this.task = task;
    this.req = req;
    this.since = performance.now();
    this.#site = site;
    this.activation = task === undefined ? currentActivation() : undefined;
    this.promise = new Promise<Lease<unknown>>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  get need(): number {
    return this.req.need;
  }

  get mode(): "read" | "write" | undefined {
    return this.req.mode;
  }

  get priority(): number {
    return this.req.priority ?? 0;
  }

  /** True when the wait will end on its own: a timeout, a signal, or a withTimeout deadline around it. */
  get limited(): boolean {
    return this.timer !== undefined || (this.signal !== undefined && !cancelOnlySignals.has(this.signal)) || this.task?.deadline !== undefined;
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

  /** AwaitNode: a queued waiter is a leaf of whatever awaits it. */
  blockedOn(leaves: Set<object>): boolean {
    if (this.done) return false;
    leaves.add(this);
    return true;
  }
}

/** The waiters that listen to one signal, and the one listener they share. */
interface SignalWaiters {
  readonly waiters: Set<Waiter>;
  readonly onAbort: () => void;
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
  /** @internal In grant order. */
  readonly _queue: Waiter[] = [];
  /** @internal */
  _policy: QueuePolicy = fifo;
  /** Waiters by the signal they listen to: one listener per signal, however many waiters share it. */
  #bySignal: Map<AbortSignal, SignalWaiters> | undefined;
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
    // a long-lived object: its construction site is its default name (a named one needs none)
    this.#site = options?.name === undefined || isDebug() ? new LazySite(above) : undefined;
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
   * @internal The one acquire path. Returns a Lease at once when the permits are free and the
   * policy lets the request pass, else the queued waiter's promise of one.
   */
  _request(req: AcquireRequest): Lease<unknown> | Promise<Lease<unknown>> {
    const task = req.holder === HolderKind.Given ? req.given : currentTask();
    if (task !== undefined && task.held !== undefined) checkLockOrder(this, task, req.above);
    // an empty queue lets any request pass under every policy: no call for the common case
    if (this._free >= req.need && (this._queue.length === 0 || this._policy.mayPass(this._queue, req))) {
      return this._grant(task, req, this._captureSites ? new LazySite(req.above) : undefined, 0);
    }
    return this.#block(task, req).promise;
  }

  /** @internal A non-blocking attempt: a lease, or undefined when it would wait. */
  _try(need: number, mode: "read" | "write" | undefined, above: Function): Lease<unknown> | undefined {
    if (this._queue.length !== 0 || this._free < need) return undefined;
    const task = currentTask();
    if (task !== undefined && task.held !== undefined) checkLockOrder(this, task, above);
    return this._grant(task, { need, mode, holder: HolderKind.Bare, above }, this._captureSites ? new LazySite(above) : undefined, 0);
  }

  /** @internal */
  _grant(task: TaskRecord | undefined, req: AcquireRequest, site: LazySite | undefined, waitedSince: number): Lease<unknown> {
    let holder: TaskRecord | undefined;
    let since: number;
    if (req.holder === HolderKind.NewScope) {
      holder = new TaskRecord(task === undefined ? this._scopeName : task.name, "scope", task, site);
      since = holder.createdAt;
    } else {
      holder = req.holder === HolderKind.Given ? req.given : task;
      since = performance.now();
    }
    const lease = new Lease<unknown>(this, holder, since, req.need, req.mode, req.holder !== HolderKind.Bare && holder !== undefined, site);
    // a bare holder outside every task is named by the async call that holds it (debug mode)
    if (holder === undefined) lease.activation = currentActivation();
    if (req.holder !== HolderKind.Bare) lease.startResource = executionAsyncResource();
    this._free -= req.need;
    this._holds.push(lease);
    if (holder !== undefined) {
      // a fresh scope has no list yet: one literal instead of an empty array and a push
      if (holder.held === undefined) holder.held = [lease];
      else holder.held.push(lease);
    }
    if (channels.lockAcquire.hasSubscribers) {
      channels.lockAcquire.publish({
        lock: this,
        task: holder,
        permits: req.need,
        mode: req.mode,
        waitedMs: waitedSince === 0 ? 0 : performance.now() - waitedSince,
      });
    }
    return lease;
  }

  /** @internal Called by Lease.release(). */
  _release(lease: Lease<unknown>): void {
    const holds = this._holds;
    const i = holds.indexOf(lease);
    if (i === -1) throw new ReleaseError(`release(): the lease does not hold ${this.kind} "${this.name}"`);
    // the last holder is the common case: pop; else splice, keeping the holders in grant order
    if (i === holds.length - 1) holds.pop();
    else holds.splice(i, 1);
    const held = lease.task?.held;
    if (held !== undefined) {
      const j = held.lastIndexOf(lease);
      if (j === held.length - 1) held.pop();
      else if (j !== -1) held.splice(j, 1);
    }
    this._free += lease.permits;
    if (channels.lockRelease.hasSubscribers)
      channels.lockRelease.publish({ lock: this, task: lease.task, permits: lease.permits, heldMs: performance.now() - lease.since });
    if (this._queue.length !== 0) this._dispatch();
    if (this._onChange !== undefined) this._onChange();
  }

  /** @internal Rejects every waiter (compat's cancel()); with `settle` false, drops them unsettled (p-limit's clearQueue). */
  _cancelAll(error: unknown, settle = true): void {
    const all = this._queue.splice(0);
    for (const w of all) {
      if (!settle) w.reject = noop;
      this.#endWait(w);
      this.#abandoned(w, "cancel");
      w.reject(error);
    }
    if (this._onChange !== undefined) this._onChange();
  }

  /** @internal Changes the total (compat: setValue, release without a lease, p-limit's concurrency). */
  _resize(delta: number): void {
    this._capacity += delta;
    this._free += delta;
    if (this._queue.length !== 0) this._dispatch();
    if (this._onChange !== undefined) this._onChange();
  }

  /** Hands free permits to the waiters at the head of the queue, in order (head-of-line: a big request blocks smaller ones behind it). */
  _dispatch(): void {
    const q = this._queue;
    // compat's waitForUnlock sees the permits at each hand-off, before the next waiter takes them
    if (this._onChange !== undefined) this._onChange();
    while (q.length !== 0) {
      const w = q[0]!;
      if (w.need > this._free) break;
      q.shift();
      this.#endWait(w);
      const lease = this._grant(w.task, w.req, w.lazySite, w.since);
      // a bare holder outside every task is the async call that asked, not the one releasing now
      if (w.activation !== undefined && lease.task === undefined) lease.activation = w.activation;
      w.resolve(lease);
      if (this._onChange !== undefined) this._onChange();
    }
  }

  /**
   * @internal The body of every scoped acquire (`runExclusive`, `read`/`write`, `use`, compat):
   * waits for the permits, runs `fn` in the fresh scope that holds them, and releases when it
   * settles. The returned promise is an await-graph node: first the waiter, then the body, so a
   * holder that awaits it is known to wait for exactly that.
   */
  _scoped<T>(
    req: AcquireRequest,
    fn: (lease: Lease<unknown>) => T | PromiseLike<T>,
    prepare?: (lease: Lease<unknown>) => Promise<Lease<unknown>>,
    waitError?: (err: unknown) => unknown,
    passLease = true,
  ): Promise<T> {
    const got = this._request(req);
    if (!awaitGraphOn()) {
      // production's common case, permits free and nothing to prepare: no async frame of its own
      if (got instanceof Lease && prepare === undefined) return runGranted(got, fn, passLease);
      return runScoped(got, fn, prepare, waitError, undefined, passLease);
    }
    const op = new OpNode(got instanceof Lease ? undefined : got);
    const p = runScoped(got, fn, prepare, waitError, op, passLease);
    setNode(p, op);
    return p;
  }

  /** Validates the public scoped call's arguments, then {@link _scoped}. */
  protected _runScoped<T>(
    fn: () => T | PromiseLike<T>,
    need: number,
    mode: "read" | "write" | undefined,
    options: AcquireOptions | undefined,
    what: string,
    above: Function,
  ): Promise<T> {
    try {
      validateFunction(fn, "fn");
      const o = options === undefined ? undefined : checkAcquireOptions(options, what);
      // the common call (no options) reuses one request per method: nothing allocated for it
      let req: AcquireRequest | undefined;
      if (o === undefined) {
        const cache = (this.#plainRequests ??= new Map<Function, AcquireRequest>());
        req = cache.get(above);
        if (req === undefined || req.need !== need) cache.set(above, (req = { need, mode, holder: HolderKind.NewScope, above }));
      } else req = { need, mode, holder: HolderKind.NewScope, options: o, above };
      return this._scoped(req, fn, undefined, undefined, false);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #plainRequests: Map<Function, AcquireRequest> | undefined;

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

  #block(task: TaskRecord | undefined, req: AcquireRequest): Waiter {
    // a waiter whose task holds something may be part of a knot: the report will want its site
    const site = this._captureSites || (task !== undefined && task.held !== undefined) ? new LazySite(req.above, 6) : undefined;
    const w = new Waiter(this, task, req, site);
    const q = this._queue;
    const at = this._policy.position(q, req);
    if (at === q.length) q.push(w);
    else q.splice(at, 0, w);
    if (task !== undefined) task.waitingOn = w;
    if (awaitGraphOn()) setNode(w.promise, w);
    if (q.length === 1) watchWait(this);
    watchDrain();
    if (channels.lockWait.hasSubscribers) channels.lockWait.publish({ lock: this, task, permits: req.need, mode: req.mode });
    const options = req.options;
    if (options !== undefined) {
      const { signal, timeout } = options;
      if (timeout !== undefined) {
        w.timer = setTimeout(() => this.#giveUp(w, this.#timeoutError(w, timeout), "timeout"), timeout);
      }
      if (signal !== undefined) this.#listen(w, signal);
    }
    // inside a withTimeout: when it expires, this wait leaves the queue (no permit is taken later and leaked)
    const deadline = task?.deadlineSignal;
    if (deadline !== undefined && w.signal === undefined && !deadline.aborted) this.#listen(w, deadline);
    return w;
  }

  #listen(w: Waiter, signal: AbortSignal): void {
    w.signal = signal;
    const by = (this.#bySignal ??= new Map<AbortSignal, SignalWaiters>());
    let entry = by.get(signal);
    if (entry === undefined) {
      const waiters = new Set<Waiter>();
      const onAbort = () => this.#abortAll(signal);
      entry = { waiters, onAbort };
      by.set(signal, entry);
      signal.addEventListener("abort", onAbort, { once: true });
    }
    entry.waiters.add(w);
  }

  #unlisten(w: Waiter): void {
    const signal = w.signal!;
    const entry = this.#bySignal?.get(signal);
    if (entry === undefined) return;
    entry.waiters.delete(w);
    if (entry.waiters.size === 0) {
      this.#bySignal!.delete(signal);
      signal.removeEventListener("abort", entry.onAbort);
    }
  }

  /** Every waiter on one aborted signal leaves in one pass over the queue (not one splice each). */
  #abortAll(signal: AbortSignal): void {
    const entry = this.#bySignal?.get(signal);
    if (entry === undefined) return;
    this.#bySignal!.delete(signal);
    const leaving = entry.waiters;
    const q = this._queue;
    const headLeft = q.length !== 0 && leaving.has(q[0]!);
    let k = 0;
    for (let i = 0; i < q.length; i++) if (!leaving.has(q[i]!)) q[k++] = q[i]!;
    q.length = k;
    for (const w of leaving) {
      if (w.done) continue;
      w.signal = undefined; // the listener is gone already
      this.#endWait(w);
      this.#abandoned(w, "abort");
      const reason: unknown = signal.reason;
      // a withTimeout that expired aborts with its TimeoutError: the waiter gets that error itself
      w.reject(reason instanceof TimeoutError ? reason : new AbortError(`the wait for ${this.kind} "${this.name}" was aborted`, { cause: reason }));
    }
    if (headLeft) this._dispatch();
    if (this._onChange !== undefined) this._onChange();
  }

  /** A waiter leaves the queue without permits (timeout, abort): it can never take one later. */
  #giveUp(w: Waiter, error: unknown, reason: "timeout" | "abort" | "cancel"): void {
    if (w.done) return;
    const i = this._queue.indexOf(w);
    if (i !== -1) this._queue.splice(i, 1);
    this.#endWait(w);
    this.#abandoned(w, reason);
    w.reject(error);
    // the waiter may have been the head that blocked smaller requests behind it
    if (i === 0) this._dispatch();
    if (this._onChange !== undefined) this._onChange();
  }

  /** @internal A waiter leaves with `error` (a proven deadlock, a withTimeout that expired). */
  _reject(w: Waiter, error: unknown, reason: "timeout" | "abort" | "cancel" | "deadlock"): void {
    if (reason === "deadlock") {
      if (w.done) return;
      const i = this._queue.indexOf(w);
      if (i !== -1) this._queue.splice(i, 1);
      this.#endWait(w);
      w.reject(error);
      if (i === 0) this._dispatch();
      if (this._onChange !== undefined) this._onChange();
      return;
    }
    this.#giveUp(w, error, reason);
  }

  #abandoned(w: Waiter, reason: "timeout" | "abort" | "cancel"): void {
    if (channels.lockAbandon.hasSubscribers) {
      channels.lockAbandon.publish({ lock: this, task: w.task, permits: w.need, mode: w.mode, reason, waitedMs: performance.now() - w.since });
    }
  }

  #endWait(w: Waiter): void {
    w.done = true;
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.signal !== undefined) this.#unlisten(w);
    const t = w.task;
    if (t !== undefined && t.waitingOn === w) t.waitingOn = undefined;
    if (w.longWaitId !== undefined) retractLongWait(w);
  }

  #timeoutError(w: Waiter, timeout: number): TimeoutError {
    const now = performance.now();
    const holders = this._holds;
    const names = holders.map((h) => `"${taskLabel(h.task, h)}"`).join(", ");
    const elapsed = Math.round(now - w.since);
    const op = `acquire ${this.kind} "${this.name}"`;
    const knot = suspectKnot(w);
    const diagnosis = createDiagnosis({
      rule: "timeout",
      certainty: "observed",
      summary:
        `${op} did not succeed within ${timeout} ms${names ? `: it is held by ${names}` : ""}${this._queue.length > 1 ? ` (${this._queue.length - 1} other waiter(s) queued)` : ""}` +
        (knot ? `; ${knot.summary}` : ""),
      subjects: [
        { kind: "task", name: taskLabel(w.task, w), role: "waiter", site: w.site, detail: `waited ${elapsed} ms` },
        { kind: "lock", name: this.name, role: this.kind, site: this.site },
        ...holders.map((h) => ({
          kind: "task" as const,
          name: taskLabel(h.task, h),
          role: "holder",
          site: h.site,
          detail: `held for ${Math.round(now - h.since)} ms${holderWaiting(h.task)}`,
        })),
      ],
      steps: knot?.steps,
      site: w.site,
      fix: knot
        ? knot.fix
        : names
          ? `see why ${names} keeps ${this.kind} "${this.name}" so long: release it before slow work, or raise the timeout if the work is just slow`
          : `raise the timeout, or shorten the work done while holding ${this.kind} "${this.name}"`,
      data: { timeoutMs: timeout, elapsedMs: elapsed, ...(knot ? { suspected: knot.rule } : {}) },
    });
    return new TimeoutError(op, timeout, elapsed, diagnosis);
  }
}

/** The scoped acquire's body: wait (the op node says for what), prepare, run `fn` in the holder scope, release. */
/**
 * {@link runScoped} for a lease granted at once, in production mode: the same order of events
 * (the body runs now; the release, then the result, a microtask after it settles, also for a
 * synchronous body) with one derived promise instead of an async function's frame and awaits.
 */
function runGranted<T>(lease: Lease<unknown>, fn: (lease: Lease<unknown>) => T | PromiseLike<T>, passLease: boolean): Promise<T> {
  let r: T | PromiseLike<T>;
  try {
    r = passLease ? runInTask(lease.task!, fn, lease) : runInTask(lease.task!, fn as () => T | PromiseLike<T>);
  } catch (err) {
    if (!lease.released) lease.release();
    return Promise.reject(err);
  }
  return Promise.resolve(r).then(
    (v) => {
      if (!lease.released) lease.release();
      return v;
    },
    (err: unknown) => {
      if (!lease.released) lease.release();
      throw err;
    },
  );
}

async function runScoped<T>(
  got: Lease<unknown> | Promise<Lease<unknown>>,
  fn: (lease: Lease<unknown>) => T | PromiseLike<T>,
  prepare: ((lease: Lease<unknown>) => Promise<Lease<unknown>>) | undefined,
  waitError: ((err: unknown) => unknown) | undefined,
  op: OpNode | undefined,
  passLease: boolean,
): Promise<T> {
  let lease: Lease<unknown>;
  if (got instanceof Lease) lease = got;
  else if (waitError === undefined) lease = await got;
  else {
    try {
      lease = await got;
    } catch (err) {
      throw waitError(err);
    }
  }
  if (prepare !== undefined) {
    if (op !== undefined) op.on = undefined;
    lease = await prepare(lease);
  }
  try {
    // the public scoped calls run the user's callback with no argument, as they always have
    const r = passLease ? runInTask(lease.task!, fn, lease) : runInTask(lease.task!, fn as () => T | PromiseLike<T>);
    if (op !== undefined) {
      op.on = r;
      lease.body = r;
      bodyBound(lease);
    }
    return await r;
  } finally {
    // a compat caller may have released it by hand inside (async-mutex allows that)
    if (!lease.released) lease.release();
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
