/**
 * RWLock: many readers or one writer, FIFO (a queued writer lets no new reader in, so writers
 * are not starved). A writer takes every permit of the shared engine; a reader takes one.
 */
import { Lease } from "./lease.js";
import { checkAcquireOptions, HolderKind, Primitive } from "./primitive.js";
import type { AcquireOptions, PrimitiveOptions } from "./primitive.js";

/** More readers than any program runs at once; a writer takes all of them. */
const ALL = 2 ** 30;

/**
 * A readers–writer lock. Upgrading (write while holding read) and a nested read behind a
 * queued writer are deadlocks, rejected at once with `DeadlockError`.
 *
 * @example
 * ```ts
 * const cache = new RWLock({ name: "cache" });
 * const value = await cache.read(() => map.get(key));
 * await cache.write(async () => map.set(key, await fetchFresh(key)));
 * ```
 */
export class RWLock extends Primitive {
  constructor(options?: PrimitiveOptions) {
    super("rwlock", ALL, options, RWLock);
  }

  /** Waits for shared (read) access. */
  async acquireRead(options?: AcquireOptions): Promise<Lease> {
    const o = checkAcquireOptions(options, `acquire rwlock "${this.name}" for read`);
    return (await this._request({ need: 1, mode: "read", holder: HolderKind.Bare, options: o, above: this.acquireRead })) as Lease;
  }

  /** Waits for exclusive (write) access. */
  async acquireWrite(options?: AcquireOptions): Promise<Lease> {
    const o = checkAcquireOptions(options, `acquire rwlock "${this.name}" for write`);
    return (await this._request({ need: ALL, mode: "write", holder: HolderKind.Bare, options: o, above: this.acquireWrite })) as Lease;
  }

  /** A read lease if no writer holds or waits, else undefined. */
  tryAcquireRead(): Lease | undefined {
    return this._try(1, "read", this.tryAcquireRead) as Lease | undefined;
  }

  /** A write lease if nobody holds or waits, else undefined. */
  tryAcquireWrite(): Lease | undefined {
    return this._try(ALL, "write", this.tryAcquireWrite) as Lease | undefined;
  }

  /** Runs `fn` with shared access, in a scope of its own. */
  read<T>(fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    return this.#run(fn, options, 1, "read", this.read);
  }

  /** Runs `fn` with exclusive access, in a scope of its own. */
  write<T>(fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    return this.#run(fn, options, ALL, "write", this.write);
  }

  #run<T>(fn: () => T | PromiseLike<T>, options: AcquireOptions | undefined, need: number, mode: "read" | "write", above: Function): Promise<T> {
    return this._runScoped(fn, need, mode, options, `${mode} on rwlock "${this.name}"`, above);
  }

  /** Releases a lease of this lock (same as `lease.release()`). */
  release(lease: Lease): void {
    this._checkOwnLease(lease, "lease").release();
  }

  /** How many readers hold it now. */
  get readers(): number {
    return this._holds.length === 1 && this._holds[0]!.mode === "write" ? 0 : this._holds.length;
  }

  /** True while a writer holds it. */
  get isWriteLocked(): boolean {
    return this._holds.length === 1 && this._holds[0]!.mode === "write";
  }

  /** True while anyone holds it. */
  get isLocked(): boolean {
    return this._holds.length !== 0;
  }
}
