/**
 * A drop-in for async-mutex 0.5 (`Mutex`, `Semaphore`, `withTimeout`, `tryAcquire`,
 * `E_TIMEOUT`, `E_ALREADY_LOCKED`, `E_CANCELED`) built on asyncdoctor's engine: change the
 * import and `runExclusive` gets re-entrance, cycle, pool-exhaustion and lock-order detection.
 *
 * Differences from async-mutex (see docs/primitives/compat.md):
 * - a deadlock that async-mutex would hang on rejects with `DeadlockError` instead;
 * - a `withTimeout` waiter that times out leaves the queue at once (async-mutex acquires later
 *   and releases immediately), so it never takes a permit;
 * - a bare `acquire()` holds on behalf of the current task, so it is not checked for
 *   re-entrance (use `runExclusive` for that).
 */
import { TimeoutError } from "../core/errors.js";
import { InvalidArgTypeError, OutOfRangeError } from "../core/validate.js";
import { Lease } from "../sync/lease.js";
import { HolderKind, Primitive } from "../sync/primitive.js";
import type { AcquireOptions, AcquireRequest, QueuePolicy, Waiter } from "../sync/primitive.js";

/** Rejection of a `withTimeout` acquire that timed out (same message as async-mutex). */
export const E_TIMEOUT: Error = new Error("timeout while waiting for mutex to become available");
/** Rejection of a `tryAcquire` acquire that would wait (same message as async-mutex). */
export const E_ALREADY_LOCKED: Error = new Error("mutex already locked");
/** Rejection of waiters dropped by `cancel()` (same message as async-mutex). */
export const E_CANCELED: Error = new Error("request for lock canceled");

/** A release function: idempotent, as in async-mutex. */
export type Releaser = () => void;

/** async-mutex's MutexInterface. */
// eslint-disable-next-line @typescript-eslint/no-namespace -- async-mutex's own typings merge a namespace into the interface
export declare namespace MutexInterface {
  /** Releases the lock. */
  interface Releaser {
    (): void;
  }
  /** A function run under the lock. */
  interface Worker<T> {
    (): Promise<T> | T;
  }
}

/** async-mutex's MutexInterface. */
export interface MutexInterface {
  acquire(priority?: number): Promise<Releaser>;
  runExclusive<T>(callback: () => Promise<T> | T, priority?: number): Promise<T>;
  waitForUnlock(priority?: number): Promise<void>;
  isLocked(): boolean;
  release(): void;
  cancel(): void;
}

/** async-mutex's SemaphoreInterface. */
// eslint-disable-next-line @typescript-eslint/no-namespace -- as MutexInterface
export declare namespace SemaphoreInterface {
  /** Gives the permits back. */
  interface Releaser {
    (): void;
  }
  /** A function run holding the permits; it gets the value before they were taken. */
  interface Worker<T> {
    (value: number): Promise<T> | T;
  }
}

/** async-mutex's SemaphoreInterface. */
export interface SemaphoreInterface {
  acquire(weight?: number, priority?: number): Promise<[number, Releaser]>;
  runExclusive<T>(callback: (value: number) => Promise<T> | T, weight?: number, priority?: number): Promise<T>;
  waitForUnlock(weight?: number, priority?: number): Promise<void>;
  isLocked(): boolean;
  getValue(): number;
  setValue(value: number): void;
  release(weight?: number): void;
  cancel(): void;
}

/** How an acquire behaves: plain, with a time limit, or failing at once when it would wait. */
interface Limit {
  readonly timeout?: number;
  readonly immediate?: boolean;
  readonly error: Error;
}

/**
 * async-mutex's queue order: by priority, first come first served within one priority; a
 * request of higher priority than the head may take free permits at once.
 */
const byPriority: QueuePolicy = {
  mayPass: (queue: readonly Waiter[], req: AcquireRequest) => queue.length === 0 || queue[0]!.priority < (req.priority ?? 0),
  position: (queue: readonly Waiter[], req: AcquireRequest) => {
    const pr = req.priority ?? 0;
    let at = queue.length;
    while (at > 0 && queue[at - 1]!.priority < pr) at--;
    return at;
  },
};

class Counter extends Primitive {
  readonly valueBefore = new WeakMap<Lease<unknown>, number>();
  constructor(kind: string, value: number, above: Function) {
    super(kind, value, undefined, above);
    this._policy = byPriority;
  }
  override _grant(...args: Parameters<Primitive["_grant"]>): Lease<unknown> {
    const before = this._free;
    const lease = super._grant(...args);
    this.valueBefore.set(lease, before);
    return lease;
  }
}

function checkWeight(weight: unknown): asserts weight is number {
  if (typeof weight !== "number") throw new InvalidArgTypeError("weight", "of type number", weight);
  if (weight <= 0) throw new Error(`invalid weight ${weight}: must be positive`);
  // a fraction or Infinity would break the permit count (Infinity - Infinity is NaN)
  if (!Number.isSafeInteger(weight)) throw new OutOfRangeError("weight", "a positive integer", weight);
}

function checkPriority(priority: unknown): asserts priority is number {
  if (typeof priority !== "number") throw new InvalidArgTypeError("priority", "of type number", priority);
  if (Number.isNaN(priority)) throw new OutOfRangeError("priority", "a number, not NaN", priority);
}

/**
 * async-mutex's Semaphore, with asyncdoctor's detection.
 *
 * @example
 * ```ts
 * import { Semaphore } from "asyncdoctor/compat/async-mutex";   // was: from "async-mutex"
 * const sem = new Semaphore(2);
 * await sem.runExclusive(async (value) => work(value));
 * ```
 */
export class Semaphore implements SemaphoreInterface {
  /** @internal */
  readonly _engine: Counter;
  readonly #cancelError: Error;
  #unlockWaiters: Array<{ weight: number; priority: number; resolve: () => void }> = [];

  constructor(value: number, cancelError: Error = E_CANCELED) {
    if (typeof value !== "number") throw new InvalidArgTypeError("value", "of type number", value);
    if (!Number.isSafeInteger(value)) throw new OutOfRangeError("value", "an integer", value);
    this._engine = new Counter("semaphore", value, new.target);
    this.#cancelError = cancelError;
  }

  acquire(weight = 1, priority = 0): Promise<[number, Releaser]> {
    checkWeight(weight);
    checkPriority(priority);
    return this._acquire(weight, priority, undefined);
  }

  /** @internal */
  async _acquire(weight: number, priority: number, limit: Limit | undefined): Promise<[number, Releaser]> {
    const lease = await this._lease(weight, priority, HolderKind.Bare, limit, this.acquire);
    return [this._engine.valueBefore.get(lease) ?? this._engine._free + weight, releaser(lease)];
  }

  /** @internal */
  async _lease(weight: number, priority: number, kind: HolderKind, limit: Limit | undefined, above: Function): Promise<Lease<unknown>> {
    const e = this._engine;
    if (limit?.immediate) {
      if (!((e._queue.length === 0 || e._queue[0]!.priority < priority) && e._free >= weight)) throw limit.error;
    }
    try {
      const got = e._request(request(weight, priority, kind, limit, above));
      return got instanceof Lease ? got : await got;
    } catch (err) {
      if (limit !== undefined && err instanceof TimeoutError) throw limit.error;
      throw err;
    }
  }

  runExclusive<T>(callback: (value: number) => Promise<T> | T, weight = 1, priority = 0): Promise<T> {
    return this._runExclusive(callback, weight, priority, undefined);
  }

  /** @internal The returned promise is the engine's own scoped operation: the await graph sees through it. */
  _runExclusive<T>(callback: (value: number) => Promise<T> | T, weight: number, priority: number, limit: Limit | undefined): Promise<T> {
    const e = this._engine;
    try {
      checkWeight(weight);
      checkPriority(priority);
      if (limit?.immediate && !((e._queue.length === 0 || e._queue[0]!.priority < priority) && e._free >= weight)) throw limit.error;
    } catch (err) {
      return Promise.reject(err);
    }
    return e._scoped(
      request(weight, priority, HolderKind.NewScope, limit, this.runExclusive),
      (lease) => callback(e.valueBefore.get(lease) ?? e._free + weight),
      undefined,
      limit === undefined ? undefined : (err) => (err instanceof TimeoutError ? limit.error : err),
    );
  }

  waitForUnlock(weight = 1, priority = 0): Promise<void> {
    checkWeight(weight);
    checkPriority(priority);
    if (this.#couldLockNow(weight, priority)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#unlockWaiters.push({ weight, priority, resolve });
      this._engine._onChange = () => this.#drainUnlockWaiters();
    });
  }

  #couldLockNow(weight: number, priority: number): boolean {
    const q = this._engine._queue;
    return (q.length === 0 || q[0]!.priority < priority) && weight <= this._engine._free;
  }

  #drainUnlockWaiters(): void {
    const ready = this.#unlockWaiters.filter((w) => this.#couldLockNow(w.weight, w.priority));
    if (ready.length === 0) return;
    this.#unlockWaiters = this.#unlockWaiters.filter((w) => !ready.includes(w));
    if (this.#unlockWaiters.length === 0) this._engine._onChange = undefined;
    for (const w of ready) w.resolve();
  }

  isLocked(): boolean {
    return this._engine._free <= 0;
  }

  getValue(): number {
    return this._engine._free;
  }

  setValue(value: number): void {
    this._engine._resize(value - this._engine._free);
  }

  /** Gives back `weight` permits: the oldest leases that fit, else the count itself, as async-mutex does. */
  release(weight = 1): void {
    checkWeight(weight);
    let left = weight;
    for (const lease of this._engine._holds.slice()) {
      if (lease.permits > left) continue;
      left -= lease.permits;
      lease.release();
      if (left === 0) return;
    }
    this._engine._resize(left);
  }

  cancel(): void {
    this._engine._cancelAll(this.#cancelError);
  }
}

function request(weight: number, priority: number, holder: HolderKind, limit: Limit | undefined, above: Function): AcquireRequest {
  const options: AcquireOptions | undefined = limit?.timeout !== undefined ? { timeout: Math.max(1, limit.timeout) } : undefined;
  return { need: weight, mode: undefined, holder, options, above, priority };
}

function releaser(lease: Lease<unknown>): Releaser {
  return () => {
    if (!lease.released) lease.release();
  };
}

/**
 * async-mutex's Mutex, with asyncdoctor's detection.
 *
 * @example
 * ```ts
 * import { Mutex } from "asyncdoctor/compat/async-mutex";   // was: from "async-mutex"
 * const mutex = new Mutex();
 * await mutex.runExclusive(() => update());
 * ```
 */
export class Mutex implements MutexInterface {
  /** @internal */
  readonly _sem: Semaphore;

  constructor(cancelError?: Error) {
    this._sem = new Semaphore(1, cancelError);
    // a semaphore of one underneath, as in async-mutex; reports call it a mutex
    (this._sem._engine as { kind: string }).kind = "mutex";
  }

  async acquire(priority = 0): Promise<Releaser> {
    const [, release] = await this._sem._acquire(1, priority, undefined);
    return release;
  }

  runExclusive<T>(callback: () => Promise<T> | T, priority = 0): Promise<T> {
    return this._sem._runExclusive(() => callback(), 1, priority, undefined);
  }

  isLocked(): boolean {
    return this._sem.isLocked();
  }

  waitForUnlock(priority = 0): Promise<void> {
    return this._sem.waitForUnlock(1, priority);
  }

  release(): void {
    if (this._sem.isLocked()) this._sem.release();
  }

  cancel(): void {
    this._sem.cancel();
  }
}

class LimitedSemaphore implements SemaphoreInterface {
  constructor(
    private readonly inner: Semaphore,
    private readonly limit: Limit,
  ) {}
  acquire(weight = 1, priority = 0): Promise<[number, Releaser]> {
    checkWeight(weight);
    return this.inner._acquire(weight, priority, this.limit);
  }
  runExclusive<T>(callback: (value: number) => Promise<T> | T, weight = 1, priority = 0): Promise<T> {
    return this.inner._runExclusive(callback, weight, priority, this.limit);
  }
  waitForUnlock(weight = 1, priority = 0): Promise<void> {
    const wait = this.inner.waitForUnlock(weight, priority);
    if (this.limit.immediate) return this.inner.getValue() >= weight ? wait : Promise.reject(this.limit.error);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(this.limit.error), this.limit.timeout);
      wait.then(
        () => {
          clearTimeout(t);
          resolve();
        },
        (err: unknown) => {
          clearTimeout(t);
          reject(err);
        },
      );
    });
  }
  isLocked(): boolean {
    return this.inner.isLocked();
  }
  getValue(): number {
    return this.inner.getValue();
  }
  setValue(value: number): void {
    this.inner.setValue(value);
  }
  release(weight = 1): void {
    this.inner.release(weight);
  }
  cancel(): void {
    this.inner.cancel();
  }
}

class LimitedMutex implements MutexInterface {
  readonly #sem: LimitedSemaphore;
  readonly #inner: Mutex;
  constructor(inner: Mutex, limit: Limit) {
    this.#inner = inner;
    this.#sem = new LimitedSemaphore(inner._sem, limit);
  }
  async acquire(priority = 0): Promise<Releaser> {
    const [, release] = await this.#sem.acquire(1, priority);
    return release;
  }
  runExclusive<T>(callback: () => Promise<T> | T, priority = 0): Promise<T> {
    return this.#sem.runExclusive(() => callback(), 1, priority);
  }
  waitForUnlock(priority = 0): Promise<void> {
    return this.#sem.waitForUnlock(1, priority);
  }
  isLocked(): boolean {
    return this.#inner.isLocked();
  }
  release(): void {
    this.#inner.release();
  }
  cancel(): void {
    this.#inner.cancel();
  }
}

function decorate(sync: unknown, limit: Limit, fn: string): MutexInterface | SemaphoreInterface {
  if (sync instanceof Mutex) return new LimitedMutex(sync, limit);
  if (sync instanceof Semaphore) return new LimitedSemaphore(sync, limit);
  if (sync instanceof LimitedMutex || sync instanceof LimitedSemaphore) {
    throw new TypeError(`${fn}(): wrap the original Mutex/Semaphore, not one already decorated`);
  }
  throw new TypeError(`${fn}(): the first argument must be a Mutex or Semaphore from asyncdoctor/compat/async-mutex`);
}

/**
 * Decorates a mutex or semaphore so that acquires give up after `timeout` ms with `timeoutError`.
 *
 * @example
 * ```ts
 * const m = withTimeout(new Mutex(), 100);
 * await m.runExclusive(work);   // rejects with E_TIMEOUT after 100 ms of waiting
 * ```
 */
export function withTimeout(mutex: MutexInterface, timeout: number, timeoutError?: Error): MutexInterface;
export function withTimeout(semaphore: SemaphoreInterface, timeout: number, timeoutError?: Error): SemaphoreInterface;
export function withTimeout(sync: MutexInterface | SemaphoreInterface, timeout: number, timeoutError: Error = E_TIMEOUT): MutexInterface | SemaphoreInterface {
  if (typeof timeout !== "number" || Number.isNaN(timeout)) throw new TypeError(`The "timeout" argument must be a number. Received ${typeof timeout}`);
  return decorate(sync, timeout <= 0 ? { immediate: true, error: timeoutError } : { timeout, error: timeoutError }, "withTimeout");
}

/**
 * Decorates a mutex or semaphore so that an acquire that would wait rejects at once.
 *
 * @example
 * ```ts
 * try { await tryAcquire(mutex).runExclusive(work); } catch (e) { if (e === E_ALREADY_LOCKED) skip(); }
 * ```
 */
export function tryAcquire(mutex: MutexInterface, alreadyAcquiredError?: Error): MutexInterface;
export function tryAcquire(semaphore: SemaphoreInterface, alreadyAcquiredError?: Error): SemaphoreInterface;
export function tryAcquire(sync: MutexInterface | SemaphoreInterface, alreadyAcquiredError: Error = E_ALREADY_LOCKED): MutexInterface | SemaphoreInterface {
  return decorate(sync, { immediate: true, error: alreadyAcquiredError }, "tryAcquire");
}
