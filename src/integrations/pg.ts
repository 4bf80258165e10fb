/**
 * node-postgres: `guardPool(pool)` puts a `pg.Pool` under asyncdoctor's pool detection, in
 * place, through `Pool.guard`. A task that holds a client and asks the same pool again, when
 * every client is held that way, is rejected at once with a `pool-exhaustion` DeadlockError
 * naming each holder and where it acquired — not after `connectionTimeoutMillis`, and not never
 * (pg's default is to wait for ever). A query issued on the pool by code that holds a client of
 * it, which works until the day every client is held that way, is reported as a potential one.
 *
 * pg stays optional: this file never imports it; it works on anything shaped like its Pool.
 */
import { TimeoutError } from "../core/errors.js";
import { captureSite } from "../core/site.js";
import { currentTask } from "../core/task.js";
import { InvalidArgTypeError, validateInteger, validateObject, validateOptionalString } from "../core/validate.js";
import type { Lease } from "../sync/lease.js";
import { Pool } from "../sync/pool.js";
import type { AcquireOptions } from "../sync/primitive.js";
import { nestedAcquireReporter, scopedHoldOf } from "./nested-acquire.js";

/** What guardPool needs of a client: pg's `PoolClient`. */
export interface PgClientLike {
  query(...args: never[]): unknown;
  release(err?: Error | boolean): void;
}

/** What guardPool needs of a pool: pg's `Pool` (or anything with the same connect/query). */
export interface PgPoolLike {
  connect(...args: never[]): unknown;
  query(...args: never[]): unknown;
  readonly options?: { readonly max?: number | undefined; readonly connectionTimeoutMillis?: number | undefined } | undefined;
}

/**
 * The client type a pool hands out. pg's `connect` is overloaded and TypeScript infers from the
 * last overload (the callback form), so that form is tried first.
 */
export type PgClientOf<P> = P extends { connect(callback: (err: never, client: infer C, done: never) => void): void }
  ? Exclude<C, undefined>
  : P extends { connect(): Promise<infer C> }
    ? C
    : PgClientLike;

/** Options of {@link guardPool}. */
export interface GuardPoolOptions {
  /** A name for reports (default: where guardPool was called). */
  name?: string;
  /** The pool's size; default `pool.options.max`, else pg's default of 10. */
  max?: number;
  /** Record where each client was acquired (default: in debug mode only; a stack costs microseconds). */
  captureSites?: boolean;
  /**
   * Reject a wait that outlasts `connectionTimeoutMillis` with pg's own error ("timeout exceeded
   * when trying to connect"), as an unguarded pool does, instead of asyncdoctor's `TimeoutError`
   * (which names the holders, and stays reachable as the error's `cause`). Default false; debug
   * mode's instrumentation sets it, so the program sees the errors it would see without it.
   */
  pgErrors?: boolean;
  /**
   * Called when `pool.query()` is called, in the caller's context; what it returns is called with
   * the client the query then runs on, just before the query is sent. For instrumentation that
   * attributes each query to the code that made it (a client of `pool.query` runs it from inside
   * the pool, where the caller is no longer on the stack).
   */
  onPoolQuery?: () => ((client: PgClientLike) => void) | undefined;
}

/** What guardPool adds to the pool it guards. */
export interface GuardedPoolExtras<C> {
  /** The asyncdoctor Pool that holds the permits (snapshot, leases, `available`, `inUse`). */
  readonly guard: Pool<C>;
  /**
   * Runs `fn` with a client and releases it when `fn` settles — the `async with pool.acquire()`
   * of the seed. Inside it, asking the pool again is watched for exhaustion.
   */
  use<T>(fn: (client: C) => T | PromiseLike<T>, options?: AcquireOptions): Promise<T>;
}

/** A pool after {@link guardPool}: the same object, with `connect` and `query` guarded. */
export type GuardedPool<P> = P & GuardedPoolExtras<PgClientOf<P>>;

const guarded = new WeakMap<object, GuardedPoolExtras<unknown>>();

type Callback = (...args: unknown[]) => void;

/**
 * Puts a node-postgres `pg.Pool` under deadlock detection, in place, and returns it with
 * `use(fn)` and `guard` added. Every `connect()` and `query()` on it — yours and any library's —
 * takes one of `max` permits first, so pg itself never queues.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { guardPool } from "asyncdoctor";
 * const pool = guardPool(new pg.Pool({ max: 10 }), { name: "db" });
 * await pool.use(async (client) => {
 *   const user = await client.query("select * from users where id = $1", [id]);
 *   await pool.query("update stats …"); // reported: asks the pool again while holding a client
 * });
 * ```
 */
export function guardPool<P extends PgPoolLike>(pool: P, options: GuardPoolOptions = {}): GuardedPool<P> {
  validateObject(pool, "pool");
  if (typeof pool.connect !== "function" || typeof pool.query !== "function") {
    throw new InvalidArgTypeError("pool", "a pg.Pool (an object with connect() and query())", pool);
  }
  validateObject(options, "options");
  validateOptionalString(options.name, "options.name");
  if (options.max !== undefined) validateInteger(options.max, "options.max", 1);
  if (options.captureSites !== undefined && typeof options.captureSites !== "boolean") {
    throw new InvalidArgTypeError("options.captureSites", "of type boolean", options.captureSites);
  }
  if (options.pgErrors !== undefined && typeof options.pgErrors !== "boolean") {
    throw new InvalidArgTypeError("options.pgErrors", "of type boolean", options.pgErrors);
  }
  if (options.onPoolQuery !== undefined && typeof options.onPoolQuery !== "function") {
    throw new InvalidArgTypeError("options.onPoolQuery", "a function", options.onPoolQuery);
  }
  const already = guarded.get(pool);
  if (already) return pool as unknown as GuardedPool<P>;

  type C = PgClientOf<P> & PgClientLike;
  const target = pool as unknown as { connect: Callback; query: Callback } & GuardedPoolExtras<C>;
  const pgConnect = (target.connect as () => Promise<C>).bind(pool);
  const pgQuery = target.query.bind(pool);
  const max = options.max ?? pool.options?.max ?? 10;
  const connectTimeout = pool.options?.connectionTimeoutMillis;
  // pg's connectionTimeoutMillis now bounds the wait for a permit (pg no longer queues)
  const acquireOptions: AcquireOptions | undefined = connectTimeout ? { timeout: connectTimeout } : undefined;
  const guard = Pool.guard<C>(
    () => pgConnect(),
    // `err` is the reason given to lease.discard(): pg then destroys the client instead of reusing it
    (client, err) => client.release(err === undefined ? undefined : err instanceof Error ? err : true),
    { max, name: options.name, captureSites: options.captureSites },
  );

  // the typeof check above narrowed it to Function: it is the declared callback
  const onPoolQuery = options.onPoolQuery as GuardPoolOptions["onPoolQuery"];
  // pg's own error for a wait past connectionTimeoutMillis, with ours (naming the holders) as its cause
  const asPgError = options.pgErrors
    ? (err: unknown): never => {
        if (err instanceof TimeoutError) throw new Error("timeout exceeded when trying to connect", { cause: err });
        throw err;
      }
    : undefined;

  const reportNested = nestedAcquireReporter(guard as Pool<unknown>, {
    resource: "client",
    fix: `run it on the client you already hold (client.query(...)), or pass that client down to the code that needs one, instead of asking pool "${guard.name}" again`,
  });

  const use = <T>(fn: (client: C) => T | PromiseLike<T>, opts?: AcquireOptions): Promise<T> => {
    if (typeof fn !== "function") return Promise.reject(new InvalidArgTypeError("fn", "a function", fn));
    const hold = scopedHoldOf(guard as Pool<unknown>, currentTask());
    if (!hold) return guard.use(fn, opts ?? acquireOptions);
    const site = captureSite(use);
    return guard.use((client) => {
      reportNested(hold, "pool.use()", site);
      return fn(client);
    }, opts ?? acquireOptions);
  };

  // a timeout waiting for the permit becomes pg's error; the query's own errors pass untouched
  const useClient = <T>(fn: (client: C) => T | PromiseLike<T>): Promise<T> => {
    if (asPgError === undefined) return guard.use(fn, acquireOptions);
    let granted = false;
    return guard
      .use((client) => {
        granted = true;
        return fn(client);
      }, acquireOptions)
      .catch((err: unknown) => (granted ? Promise.reject(err) : asPgError(err)));
  };

  function query(...args: unknown[]): unknown {
    const first = args[0];
    // a Submittable (a cursor, a stream) manages its own client: pg's query, whose connect is guarded
    if (first !== null && typeof first === "object" && typeof (first as { submit?: unknown }).submit === "function") return pgQuery(...args);
    const cb = typeof args[args.length - 1] === "function" ? (args.pop() as Callback) : undefined;
    const hold = scopedHoldOf(guard as Pool<unknown>, currentTask());
    const site = hold ? captureSite(query) : undefined;
    const attribute = onPoolQuery?.();
    const result = useClient((client) => {
      if (hold) reportNested(hold, "pool.query()", site);
      attribute?.(client);
      return (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
    });
    if (!cb) return result;
    result.then(
      (res) => process.nextTick(cb, undefined, res),
      (err: unknown) => process.nextTick(cb, err),
    );
    return undefined;
  }

  async function connectGuarded(site: ReturnType<typeof captureSite>, hold: Lease<unknown> | undefined): Promise<C> {
    const lease = asPgError === undefined ? await guard.acquire(acquireOptions) : await guard.acquire(acquireOptions).catch(asPgError);
    if (hold) reportNested(hold, "pool.connect()", site);
    const client = lease.resource;

    const pgRelease = client.release;
    // pg sets client.release at each checkout; ours gives the permit back and then calls it
    client.release = (err?: Error | boolean) => {
      client.release = pgRelease;
      if (err) lease.discard(err);
      else lease.release();
    };
    return client;
  }

  function connect(...args: unknown[]): unknown {
    const cb = typeof args[0] === "function" ? (args[0] as Callback) : undefined;
    const hold = scopedHoldOf(guard as Pool<unknown>, currentTask());
    const p = connectGuarded(hold ? captureSite(connect) : undefined, hold);
    if (!cb) return p;
    p.then(
      (client) => process.nextTick(cb, undefined, client, (err?: Error | boolean) => client.release(err)),
      (err: unknown) => process.nextTick(cb, err, undefined, () => {}),
    );
    return undefined;
  }

  const extras: GuardedPoolExtras<C> = { guard, use };
  Object.defineProperties(pool, {
    connect: { value: connect, configurable: true, writable: true },
    query: { value: query, configurable: true, writable: true },
    guard: { value: guard, configurable: true },
    use: { value: use, configurable: true, writable: true },
  });
  guarded.set(pool, extras as GuardedPoolExtras<unknown>);
  return pool as unknown as GuardedPool<P>;
}
