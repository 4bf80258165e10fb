/**
 * A lease: what an acquire returns. It names its holder, releases exactly once, and is
 * `Disposable`, so `using lease = await lock.acquire()` releases at the end of the block.
 */
import type { Activation } from "../core/await-graph.js";
import type { HeldEntry, HolderInfo, TaskRecord } from "../core/task.js";
import type { Site } from "../core/site.js";
import { LazySite } from "../core/site.js";
import type { Primitive } from "./primitive.js";
import { ReleaseError } from "../core/errors.js";

export { ReleaseError };

/**
 * The right to a primitive's permits until `release()`. Returned by every `acquire()`.
 *
 * @example
 * ```ts
 * const lease = await mutex.acquire();
 * try { await write(); } finally { lease.release(); }
 * // or, with explicit resource management:
 * { using _ = await mutex.acquire(); await write(); }
 * ```
 */
export class Lease<R = undefined> implements Disposable, HeldEntry, HolderInfo {
  /** The primitive this lease belongs to. */
  readonly target: Primitive;
  /** The holder: the scope of `runExclusive`/`use`, else the task that called `acquire()`. */
  readonly task: TaskRecord | undefined;
  /** performance.now() at acquisition. */
  readonly since: number;
  /** Permits held (1 for a mutex; all of them for an RWLock writer). */
  readonly permits: number;
  /** For an RWLock: "read" or "write". */
  readonly mode: "read" | "write" | undefined;
  /**
   * True when the holder is a scope made for this very hold (runExclusive, use, lockAll with a
   * callback): everything that runs inside it is inside the critical section, so detection may
   * rely on it. A bare acquire in a task is not: concurrent code of the same task shares it.
   */
  readonly scoped: boolean;
  /**
   * @internal The async resource (executionAsyncResource) the holder scope started in: an
   * acquire made later from a scheduled callback (timer, immediate, tick) runs elsewhere and is
   * not the scope's own awaited flow.
   */
  startResource: object | undefined;
  /**
   * @internal What the holder scope's release waits for: the promise its body returned (set
   * while the await graph is on). The deadlock proof follows it to what the body awaits.
   */
  body: unknown;
  /** @internal The async call that acquired, for a bare holder outside every task (debug mode). */
  activation: Activation | undefined;
  /** The pooled resource (pools only). */
  resource: R;
  #site: Site | LazySite | undefined;
  #released = false;

  /** @internal Created by the primitive when it grants permits. */
  constructor(
    target: Primitive,
    task: TaskRecord | undefined,
    since: number,
    permits: number,
    mode: "read" | "write" | undefined,
    scoped: boolean,
    site: Site | LazySite | undefined,
  ) {
    this.target = target;
    this.task = task;
    this.since = since;
    this.permits = permits;
    this.mode = mode;
    this.scoped = scoped;
    this.resource = undefined as R;
    this.#site = site;
  }

  /** Where the holder acquired (always in debug mode or with `captureSites`; else when known). */
  get site(): Site | undefined {
    const s = this.#site;
    return s instanceof LazySite ? s.site : s;
  }

  /** @internal */
  setSite(site: Site | LazySite | undefined): void {
    this.#site = site;
  }

  /** True once released. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Gives the permits back; the next waiter in FIFO order gets them. Releasing twice throws a
   * {@link ReleaseError} (it would otherwise hand a permit to a second holder).
   */
  release(): void {
    if (this.#released) {
      throw new ReleaseError(`release(): this lease of ${this.target.kind} "${this.target.name}" was already released; each acquire is released exactly once`);
    }
    this.#released = true;
    this.target._release(this);
  }

  /**
   * Releases and says the resource is broken (pools): an owned pool destroys it instead of
   * reusing it; a guarded pool passes `reason` to its release function. Same as `release()`
   * for locks.
   */
  discard(reason: unknown = new Error("discarded")): void {
    this.discarded = reason;
    this.release();
  }

  /** @internal Set by discard(). */
  discarded: unknown;

  /** Releases, unless already released (so `using` after an explicit release() is fine). */
  [Symbol.dispose](): void {
    if (!this.#released) this.release();
  }
}
