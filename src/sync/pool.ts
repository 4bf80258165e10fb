/**
 * Pool<R>: a resource pool (connections, workers, clients) whose permits are watched like a
 * semaphore's: a holder that asks the pool again while every permit is held by such holders is
 * rejected (`pool-exhaustion`, or `deadlock-reentrant` when it holds them all itself).
 * `Pool.guard` puts an existing pool (pg's, generic-pool's) under the same detection.
 */
import { AbortError, TimeoutError } from "../core/errors.js";
import { createDiagnosis } from "../core/diagnosis.js";
import { isThenable, validateFunction, validateInteger, validateObject } from "../core/validate.js";
import { Lease } from "./lease.js";
import { checkAcquireOptions, HolderKind, Primitive } from "./primitive.js";
import type { AcquireOptions, PrimitiveOptions } from "./primitive.js";

/** Options of a pool that creates its own resources. */
export interface PoolOptions<R> extends PrimitiveOptions {
  /** Makes a new resource when none is idle and fewer than `max` exist. */
  create: () => R | PromiseLike<R>;
  /** Disposes of a resource (on `discard()` and `drain()`). */
  destroy?: (resource: R) => unknown;
  /** How many resources may be out at once. */
  max: number;
}

/** Options of {@link Pool.guard}. */
export interface PoolGuardOptions extends PrimitiveOptions {
  /** The guarded pool's size: how many resources can be out at once. */
  max: number;
}

type Source<R> =
  | { readonly guarded: false; readonly create: () => R | PromiseLike<R>; readonly destroy: ((r: R) => unknown) | undefined }
  | { readonly guarded: true; readonly acquire: () => R | PromiseLike<R>; readonly release: (r: R, error?: unknown) => unknown };

/**
 * A pool of at most `max` resources, FIFO, with deadlock detection on its permits.
 *
 * @example
 * ```ts
 * const pool = new Pool({ name: "db", max: 10, create: () => connect(url), destroy: (c) => c.close() });
 * const rows = await pool.use((conn) => conn.query("select 1"));
 * ```
 */
export class Pool<R> extends Primitive {
  #source: Source<R>;
  readonly #idle: R[] = [];
  #created = 0;

  constructor(options: PoolOptions<R>) {
    validateObject(options, "options");
    validateFunction(options.create, "options.create");
    if (options.destroy !== undefined) validateFunction(options.destroy, "options.destroy");
    validateInteger(options.max, "options.max", 1);
    super("pool", options.max, { name: options.name, captureSites: options.captureSites }, Pool);
    this.#source = { guarded: false, create: options.create, destroy: options.destroy };
  }

  /**
   * Puts an existing pool under asyncdoctor's detection. `acquire` takes a resource from it
   * (called only once one of `max` permits is granted, so the guarded pool never queues on its
   * own); `release(resource, error)` gives it back — `error` is set when the lease was
   * `discard(error)`ed, so a pool that can destroy broken resources (pg's `client.release(err)`)
   * does. Returns a `Pool<R>` with the whole API: `use`, `acquire`, leases, snapshot.
   *
   * @param acquire - takes one resource from the underlying pool
   * @param release - gives it back; `error` is the reason given to `lease.discard(error)`, if any
   * @param options - `max`: the underlying pool's size; `name`: for reports and lock classes
   *
   * @example
   * ```ts
   * import pg from "pg";
   * const pgPool = new pg.Pool({ max: 10 });
   * const db = Pool.guard(() => pgPool.connect(), (client, err) => client.release(err as Error | undefined), { max: 10, name: "db" });
   * const rows = await db.use((client) => client.query("select now()"));
   * ```
   */
  static guard<R>(acquire: () => R | PromiseLike<R>, release: (resource: R, error?: unknown) => unknown, options: PoolGuardOptions): Pool<R> {
    validateFunction(acquire, "acquire");
    validateFunction(release, "release");
    validateObject(options, "options");
    validateInteger(options.max, "options.max", 1);
    const pool = new Pool<R>({
      max: options.max,
      name: options.name,
      captureSites: options.captureSites,
      create: acquire,
    });
    pool.#source = { guarded: true, acquire, release };
    return pool;
  }

  /** Waits for a permit, then takes an idle resource or makes one. */
  async acquire(options?: AcquireOptions): Promise<Lease<R>> {
    const o = checkAcquireOptions(options, `acquire from pool "${this.name}"`);
    const got = this._request({ need: 1, mode: undefined, holder: HolderKind.Bare, options: o, above: this.acquire });
    return this.#fill((got instanceof Lease ? got : await got) as Lease<R>, o);
  }

  /**
   * A lease when a permit is free, nobody waits and an idle resource is ready (an owned pool),
   * else undefined. Never waits and never creates.
   */
  tryAcquire(): Lease<R> | undefined {
    if (this.#source.guarded || this.#idle.length === 0) return undefined;
    const lease = this._try(1, undefined, this.tryAcquire) as Lease<R> | undefined;
    if (lease !== undefined) lease.resource = this.#idle.pop()!;
    return lease;
  }

  /** Runs `fn` with a resource, in a scope of its own; gives the resource back when it settles. */
  use<T>(fn: (resource: R) => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    try {
      validateFunction(fn, "fn");
      const o = options === undefined ? undefined : checkAcquireOptions(options, `use of pool "${this.name}"`);
      return this._scoped(
        { need: 1, mode: undefined, holder: HolderKind.NewScope, options: o, above: this.use },
        (lease) => fn((lease as Lease<R>).resource),
        (lease) => this.#fill(lease as Lease<R>, o),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #fill(lease: Lease<R>, options?: AcquireOptions): Promise<Lease<R>> {
    const src = this.#source;
    if (!src.guarded && this.#idle.length !== 0) {
      lease.resource = this.#idle.pop()!;
      return lease;
    }
    const making = (async () => (src.guarded ? src.acquire() : src.create()))();
    const deadline = lease.task?.deadlineSignal;
    try {
      lease.resource = options === undefined && deadline === undefined ? await making : await this.#bounded(making, options, deadline);
    } catch (err) {
      // no resource: give the permit back without returning anything to the idle list
      lease.discarded = null;
      lease.release();
      throw err;
    }
    if (!src.guarded) this.#created++;
    return lease;
  }

  /**
   * A resource being made, within the acquire's own limits (timeout, signal, an enclosing
   * withTimeout): a create() that hangs must not hold the permit for ever. One that arrives
   * after the limit is kept for the next acquire (an owned pool) or handed back.
   */
  #bounded(making: Promise<R>, options: AcquireOptions | undefined, deadline: AbortSignal | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const signals = [options?.signal, deadline].filter((s): s is AbortSignal => s !== undefined);
      const finish = () => {
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        for (const s of signals) s.removeEventListener("abort", onAbort);
      };
      const giveBack = () => {
        making.then(
          (r) => {
            const src = this.#source;
            if (src.guarded) settleQuietly(() => src.release(r, undefined));
            else {
              this.#created++;
              this.#idle.push(r);
            }
          },
          () => {},
        );
      };
      const onAbort = (ev: Event) => {
        if (done) return;
        finish();
        giveBack();
        const reason: unknown = (ev.target as AbortSignal).reason;
        reject(new AbortError(`making a resource for pool "${this.name}" was aborted`, { cause: reason }));
      };
      for (const s of signals) {
        if (s.aborted) return onAbort({ target: s } as unknown as Event);
        s.addEventListener("abort", onAbort, { once: true });
      }
      if (options?.timeout !== undefined) {
        const ms = options.timeout;
        timer = setTimeout(() => {
          if (done) return;
          finish();
          giveBack();
          reject(
            new TimeoutError(
              `make a resource for pool "${this.name}"`,
              ms,
              ms,
              createDiagnosis({
                rule: "timeout",
                certainty: "observed",
                summary: `pool "${this.name}" could not make a resource within ${ms} ms: its create()/acquire() did not settle`,
                subjects: [{ kind: "lock", name: this.name, role: this.kind, site: this.site }],
                fix: `see why the pool's create() hangs (a connection that never answers); give it a timeout of its own`,
                data: { timeoutMs: ms },
              }),
            ),
          );
        }, ms);
      }
      making.then(
        (r) => {
          if (done) return;
          finish();
          resolve(r);
        },
        (err: unknown) => {
          if (done) return;
          finish();
          reject(err);
        },
      );
    });
  }

  /** @internal Gives the resource back before the permit goes to the next waiter. */
  override _release(lease: Lease<unknown>): void {
    const l = lease as Lease<R>;
    const src = this.#source;
    if (l.discarded !== null) {
      if (src.guarded) settleQuietly(() => src.release(l.resource, l.discarded));
      else if (l.discarded === undefined) this.#idle.push(l.resource);
      else {
        this.#created--;
        const destroy = src.destroy;
        if (destroy) settleQuietly(() => destroy(l.resource));
      }
    }
    super._release(lease);
  }

  /** Releases a lease of this pool (same as `lease.release()`). */
  release(lease: Lease<R>): void {
    this._checkOwnLease(lease, "lease").release();
  }

  /** Destroys the idle resources (an owned pool); resources in use are destroyed as they come back only if discarded. */
  async drain(): Promise<void> {
    const src = this.#source;
    const idle = this.#idle.splice(0);
    if (src.guarded) return;
    this.#created -= idle.length;
    if (src.destroy) await Promise.all(idle.map((r) => src.destroy!(r)));
  }

  /** The pool's size limit. */
  get max(): number {
    return this._capacity;
  }

  /** Permits free now. */
  get available(): number {
    return this._free;
  }

  /** Resources out now. */
  get inUse(): number {
    return this._capacity - this._free;
  }

  /** Idle resources kept for reuse (an owned pool). */
  get idle(): number {
    return this.#idle.length;
  }
}

function settleQuietly(fn: () => unknown): void {
  let r: unknown;
  try {
    r = fn();
  } catch (err) {
    process.emitWarning(`asyncdoctor: a pool's release/destroy threw: ${String(err)}`);
    return;
  }
  if (isThenable(r)) {
    r.then(undefined, (err: unknown) => process.emitWarning(`asyncdoctor: a pool's release/destroy failed: ${String(err)}`));
  }
}
