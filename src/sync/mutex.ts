/**
 * Mutex: one holder at a time, FIFO, with deadlock detection (re-entrance, wait-for cycles,
 * lock-order inversion) and a lease that is `Disposable`.
 */
import { Lease } from "./lease.js";
import { checkAcquireOptions, HolderKind, Primitive } from "./primitive.js";
import type { AcquireOptions, PrimitiveOptions } from "./primitive.js";

/**
 * A mutual-exclusion lock. `runExclusive(fn)` runs `fn` as its own scope (a task identity), so
 * a re-entrant acquire inside it is rejected at once with a `DeadlockError` instead of hanging,
 * and a wait-for cycle across locks is rejected the moment it closes.
 *
 * @example
 * ```ts
 * const accounts = new Mutex({ name: "accounts" });
 * await accounts.runExclusive(async () => {
 *   const balance = await load();
 *   await save(balance - 10);
 * });
 * ```
 */
export class Mutex extends Primitive {
  constructor(options?: PrimitiveOptions) {
    super("mutex", 1, options, Mutex);
  }

  /**
   * Waits for the lock and returns its lease. Prefer `runExclusive`: a bare acquire holds on
   * behalf of the current task, which is not certain enough to report re-entrance.
   */
  async acquire(options?: AcquireOptions): Promise<Lease> {
    const o = checkAcquireOptions(options, `acquire mutex "${this.name}"`);
    return (await this._request({ need: 1, mode: undefined, holder: HolderKind.Bare, options: o, above: this.acquire })) as Lease;
  }

  /** The lease when the lock is free and nobody waits, else undefined. Never waits. */
  tryAcquire(): Lease | undefined {
    return this._try(1, undefined, this.tryAcquire) as Lease | undefined;
  }

  /** Runs `fn` holding the lock, in a scope of its own; releases when it settles. */
  runExclusive<T>(fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    return this._runScoped(fn, 1, undefined, options, `runExclusive on mutex "${this.name}"`, this.runExclusive);
  }

  /** Releases a lease of this mutex (same as `lease.release()`). */
  release(lease: Lease): void {
    this._checkOwnLease(lease, "lease").release();
  }

  /** True while held. */
  get isLocked(): boolean {
    return this._free === 0;
  }
}
