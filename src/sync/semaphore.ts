/**
 * Semaphore: N permits, FIFO, weighted acquires, with the same detection as the mutex plus
 * pool exhaustion (every permit held by tasks that wait on the same semaphore).
 */
import { InvalidArgTypeError, OutOfRangeError, validateInteger } from "../core/validate.js";
import { Lease } from "./lease.js";
import { checkAcquireOptions, HolderKind, Primitive } from "./primitive.js";
import type { AcquireOptions, PrimitiveOptions } from "./primitive.js";

/** Options of a semaphore acquire. */
export interface SemaphoreAcquireOptions extends AcquireOptions {
  /** How many permits (default 1; at most the semaphore's total). */
  permits?: number;
}

/**
 * A counting semaphore. A task that holds the permits it would need and asks again is
 * rejected at once (`deadlock-reentrant`); when every permit is held by tasks waiting on this
 * same semaphore, the last to block is rejected (`pool-exhaustion`).
 *
 * @example
 * ```ts
 * const downloads = new Semaphore(4, { name: "downloads" });
 * await Promise.all(urls.map((u) => downloads.runExclusive(() => fetch(u))));
 * ```
 */
export class Semaphore extends Primitive {
  constructor(permits: number, options?: PrimitiveOptions) {
    if (typeof permits !== "number") throw new InvalidArgTypeError("permits", "of type number", permits);
    if (!Number.isInteger(permits) || permits < 1) {
      throw new OutOfRangeError("permits", "an integer >= 1 (a semaphore of 0 permits could never be acquired)", permits);
    }
    super("semaphore", permits, options, Semaphore);
  }

  #need(options: SemaphoreAcquireOptions | undefined): number {
    const n = options?.permits;
    if (n === undefined) return 1;
    validateInteger(n, "options.permits", 1);
    if (n > this._capacity) {
      throw new OutOfRangeError("options.permits", `<= the semaphore's ${this._capacity} permits (more could never be granted)`, n);
    }
    return n;
  }

  /** Waits for permits and returns their lease. */
  async acquire(options?: SemaphoreAcquireOptions): Promise<Lease> {
    const need = this.#need(options);
    const o = checkAcquireOptions(options, `acquire semaphore "${this.name}"`);
    return (await this._request({ need, mode: undefined, holder: HolderKind.Bare, options: o, above: this.acquire })) as Lease;
  }

  /** The lease when enough permits are free and nobody waits, else undefined. */
  tryAcquire(permits = 1): Lease | undefined {
    const need = this.#need({ permits });
    return this._try(need, undefined, this.tryAcquire) as Lease | undefined;
  }

  /** Runs `fn` holding the permits, in a scope of its own; releases when it settles. */
  runExclusive<T>(fn: () => T | PromiseLike<T>, options?: SemaphoreAcquireOptions): Promise<T> {
    let need: number;
    try {
      need = this.#need(options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this._runScoped(fn, need, undefined, options, `runExclusive on semaphore "${this.name}"`, this.runExclusive);
  }

  /** Releases a lease of this semaphore (same as `lease.release()`). */
  release(lease: Lease): void {
    this._checkOwnLease(lease, "lease").release();
  }

  /** Total permits. */
  get permits(): number {
    return this._capacity;
  }

  /** Free permits now. */
  get available(): number {
    return this._free;
  }

  /** True when no permit is free. */
  get isLocked(): boolean {
    return this._free === 0;
  }
}
