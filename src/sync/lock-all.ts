/**
 * lockAll: takes several locks in one canonical order (their creation order), the seed's fix
 * for two locks taken in opposite orders. With a callback, the callback runs as one scope that
 * holds them all.
 */
import { awaitGraphOn, OpNode, setNode } from "../core/await-graph.js";
import { currentTask, runInTask, TaskRecord } from "../core/task.js";
import { InvalidArgTypeError, validateFunction } from "../core/validate.js";
import { Lease } from "./lease.js";
import { Mutex } from "./mutex.js";
import { checkAcquireOptions, HolderKind } from "./primitive.js";
import type { AcquireOptions } from "./primitive.js";
import { RWLock } from "./rwlock.js";
import { bodyBound } from "./wait-graph.js";
import { Semaphore } from "./semaphore.js";

/** What lockAll takes: mutexes, semaphores (one permit) and RWLocks (for write). */
export type Lockable = Mutex | Semaphore | RWLock;

/**
 * The leases of a lockAll without a callback, released together (last taken first).
 *
 * @example
 * ```ts
 * using held = await lockAll([a, b]);   // or: const held = …; try { … } finally { held.release(); }
 * ```
 */
export class LockSet implements Disposable {
  /** The leases, in the order they were taken. */
  readonly leases: readonly Lease[];
  constructor(leases: readonly Lease[]) {
    this.leases = leases;
  }
  /** Releases every lease, last taken first. */
  release(): void {
    for (let i = this.leases.length - 1; i >= 0; i--) this.leases[i]!.release();
  }
  [Symbol.dispose](): void {
    for (let i = this.leases.length - 1; i >= 0; i--) this.leases[i]![Symbol.dispose]();
  }
}

function canonical(locks: unknown): Lockable[] {
  if (!Array.isArray(locks)) throw new InvalidArgTypeError("locks", "an array of Mutex, Semaphore or RWLock", locks);
  const seen = new Set<Lockable>();
  locks.forEach((l: unknown, i) => {
    if (!(l instanceof Mutex || l instanceof Semaphore || l instanceof RWLock)) {
      throw new InvalidArgTypeError(`locks[${i}]`, "a Mutex, Semaphore or RWLock", l);
    }
    if (seen.has(l)) throw new InvalidArgTypeError(`locks[${i}]`, `a lock not already in the list (${l.kind} "${l.name}" appears twice)`, l);
    seen.add(l);
  });
  return [...seen].sort((a, b) => a.id - b.id);
}

function need(l: Lockable): [number, "write" | undefined] {
  return l instanceof RWLock ? [l._capacity, "write"] : [1, undefined];
}

/**
 * Takes every lock in one canonical order, so two callers naming the same locks in different
 * orders cannot deadlock. With `fn`, runs it holding them all (as one scope) and releases them
 * after; without, returns a {@link LockSet} to release (it is `Disposable`).
 *
 * @example
 * ```ts
 * await lockAll([from.lock, to.lock], async () => {
 *   from.balance -= amount;
 *   to.balance += amount;
 * });
 * // or: using held = await lockAll([a, b]);
 * ```
 */
export function lockAll(locks: readonly Lockable[], options?: AcquireOptions): Promise<LockSet>;
export function lockAll<T>(locks: readonly Lockable[], fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T>;
export function lockAll<T>(
  locks: readonly Lockable[],
  fnOrOptions?: (() => T | PromiseLike<T>) | AcquireOptions,
  maybeOptions?: AcquireOptions,
): Promise<LockSet | T> {
  // the promise returned is an await-graph node: first the lock it waits for, then the body
  const op = awaitGraphOn() ? new OpNode(undefined) : undefined;
  const p = lockAllIn(locks, fnOrOptions, maybeOptions, op);
  if (op !== undefined) setNode(p, op);
  return p;
}

async function lockAllIn<T>(
  locks: readonly Lockable[],
  fnOrOptions: (() => T | PromiseLike<T>) | AcquireOptions | undefined,
  maybeOptions: AcquireOptions | undefined,
  op: OpNode | undefined,
): Promise<LockSet | T> {
  const ordered = canonical(locks);
  const fn = typeof fnOrOptions === "function" ? fnOrOptions : undefined;
  if (fnOrOptions !== undefined && fn === undefined && (fnOrOptions === null || typeof fnOrOptions !== "object")) {
    validateFunction(fnOrOptions, "fn");
  }
  const options = checkAcquireOptions(fn ? maybeOptions : fnOrOptions, "lockAll");
  const parent = currentTask();
  const scope = fn ? new TaskRecord(parent?.name ?? "lockAll", "scope", parent, undefined) : undefined;
  const leases: Lease[] = [];
  try {
    for (const l of ordered) {
      const [n, mode] = need(l);
      const got = l._request({ need: n, mode, holder: fn ? HolderKind.Given : HolderKind.Bare, given: scope, options, above: lockAll });
      if (op !== undefined) op.on = got instanceof Lease ? undefined : got;
      leases.push((got instanceof Lease ? got : await got) as Lease);
    }
  } catch (err) {
    new LockSet(leases).release();
    throw err;
  }
  const set = new LockSet(leases);
  if (!fn) return set;
  try {
    const r = runInTask(scope!, fn);
    if (op !== undefined) {
      op.on = r;
      for (const lease of leases) {
        lease.body = r;
        bodyBound(lease);
      }
    }
    return await r;
  } finally {
    set.release();
  }
}
