/**
 * knex: `guardKnex(knex)` puts a knex instance's connection pool under asyncdoctor's pool
 * detection, in place, through `Pool.guard`. knex's classic deadlock — inside
 * `knex.transaction(async (trx) => …)`, a query on `knex` instead of `trx`, in as many
 * transactions at once as the pool has connections — is rejected at once as a proven
 * `pool-exhaustion` naming every transaction's task and where it began, instead of knex's
 * "Timeout acquiring a connection" after `acquireConnectionTimeout` (60 s by default). Such a
 * query is reported as a potential one the first time it runs at that line, even when a
 * connection was free (once per line, when the line can be seen; else once per pool).
 *
 * knex stays optional: this file never imports it; it works on anything shaped like it.
 */
import { currentActivation } from "../core/await-graph.js";
import type { Activation } from "../core/await-graph.js";
import { TimeoutError } from "../core/errors.js";
import { captureStack } from "../core/site.js";
import type { Site } from "../core/site.js";
import { currentTask } from "../core/task.js";
import type { TaskRecord } from "../core/task.js";
import { InvalidArgTypeError, validateInteger, validateObject, validateOptionalString } from "../core/validate.js";
import type { Lease } from "../sync/lease.js";
import { Pool } from "../sync/pool.js";
import type { AcquireOptions } from "../sync/primitive.js";
import { nestedAcquireReporter, scopedHoldOf } from "./nested-acquire.js";

/** What guardKnex needs of knex's client (`knex.client`). */
export interface KnexClientLike {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): unknown;
  /** knex's builder factories and the runner a builder's `then()` starts (knex 0.95+); used when present. */
  queryBuilder?(...args: never[]): unknown;
  schemaBuilder?(...args: never[]): unknown;
  raw?(...args: never[]): unknown;
  runner?(builder: never): unknown;
  readonly config?: { readonly pool?: { readonly max?: number } | undefined; readonly acquireConnectionTimeout?: number | undefined } | undefined;
}

/** What guardKnex needs of a knex instance. */
export interface KnexLike {
  readonly client: KnexClientLike;
  transaction(...args: never[]): unknown;
}

/** Options of {@link guardKnex}. */
export interface GuardKnexOptions {
  /** A name for reports (default: where guardKnex was called). */
  name?: string;
  /** The pool's size; default the knex config's `pool.max`, else knex's default of 10. */
  max?: number;
  /** Record where each connection was acquired (default: in debug mode only). */
  captureSites?: boolean;
  /**
   * The error a wait for a connection rejects with when it outlasts `acquireConnectionTimeout`,
   * made from asyncdoctor's `TimeoutError` (which names the holders). Default: that
   * `TimeoutError` itself. Debug mode's instrumentation passes knex's own `KnexTimeoutError`, so
   * the program sees the errors it would see without it.
   */
  timeoutError?: (cause: TimeoutError) => Error;
}

/** A knex instance after {@link guardKnex}: the same object, with `guard` added. */
export type GuardedKnex<K> = K & { readonly guard: Pool<unknown> };

const guarded = new WeakSet<object>();

/** A query built on the knex instance inside one of its transactions: where, and in which await. */
interface BuiltQuery {
  readonly task: TaskRecord | undefined;
  readonly site: Site | undefined;
  /** The async function running when it was built; it awaits the query if its `awaiting` is the builder. */
  readonly activation: Activation | undefined;
}

/** The innermost frame of the user's code above `above` (not asyncdoctor, not node_modules). */
function userFrame(above: Function): Site | undefined {
  return captureStack(above, 48).find((f) => !/[\\/]node_modules[\\/]/.test(f.file));
}

/** Where `activation` awaits now, as a site. */
function awaitSite(activation: Activation | undefined, awaited: unknown): Site | undefined {
  if (activation === undefined || activation.awaiting !== awaited) return undefined;
  const l = activation.link();
  return l.file === "" ? undefined : { file: l.file, line: l.line, column: l.column };
}

/**
 * Puts a knex instance's pool under deadlock detection, in place. Every connection knex takes
 * goes through one of `max` permits; `knex.transaction(handler)` holds its connection in a scope
 * of its own, so a query on `knex` (not `trx`) inside it is watched.
 *
 * @example
 * ```ts
 * import knex from "knex";
 * import { guardKnex } from "asyncdoctor";
 * const db = guardKnex(knex({ client: "pg", connection: url, pool: { max: 10 } }), { name: "db" });
 * await db.transaction(async (trx) => {
 *   await trx("accounts").update({ balance: 0 });
 *   await db("audit").insert({ event: "reset" }); // reported: a second connection, not trx
 * });
 * ```
 */
export function guardKnex<K extends KnexLike>(knex: K, options: GuardKnexOptions = {}): GuardedKnex<K> {
  if ((typeof knex !== "function" && (typeof knex !== "object" || knex === null)) || typeof knex.transaction !== "function") {
    throw new InvalidArgTypeError("knex", "a knex instance", knex);
  }
  const client = knex.client;
  if (client === null || typeof client !== "object" || typeof client.acquireConnection !== "function" || typeof client.releaseConnection !== "function") {
    throw new InvalidArgTypeError("knex.client", "a knex client (with acquireConnection() and releaseConnection())", client);
  }
  validateObject(options, "options");
  validateOptionalString(options.name, "options.name");
  if (options.max !== undefined) validateInteger(options.max, "options.max", 1);
  if (options.captureSites !== undefined && typeof options.captureSites !== "boolean") {
    throw new InvalidArgTypeError("options.captureSites", "of type boolean", options.captureSites);
  }
  if (options.timeoutError !== undefined && typeof options.timeoutError !== "function") {
    throw new InvalidArgTypeError("options.timeoutError", "a function", options.timeoutError);
  }
  if (guarded.has(knex)) return knex as GuardedKnex<K>;
  // the typeof check above narrowed it to Function: it is the declared callback
  const makeTimeoutError = options.timeoutError as GuardKnexOptions["timeoutError"];
  // a timeout waiting for a permit becomes the caller's chosen error; every other error passes
  const convert = makeTimeoutError
    ? (err: unknown): never => {
        throw err instanceof TimeoutError ? makeTimeoutError(err) : err;
      }
    : undefined;

  const knexAcquire = client.acquireConnection.bind(client);
  const knexRelease = client.releaseConnection.bind(client);
  const knexTransaction = (knex.transaction as (...a: unknown[]) => unknown).bind(knex);
  const max = options.max ?? client.config?.pool?.max ?? 10;
  const timeout = client.config?.acquireConnectionTimeout ?? 60_000;
  // knex's acquireConnectionTimeout now bounds the wait for a permit (its pool no longer queues)
  const acquireOptions: AcquireOptions | undefined = timeout > 0 ? { timeout } : undefined;
  const guard = Pool.guard<unknown>(
    () => knexAcquire(),
    (connection) => knexRelease(connection),
    {
      max,
      name: options.name,
      captureSites: options.captureSites,
    },
  );
  const reportNested = nestedAcquireReporter(guard, {
    resource: "connection",
    fix: `inside a transaction, run every query on trx (or add .transacting(trx)), not on the knex instance: each query on it takes another connection of pool "${guard.name}"`,
  });
  const reportNestedTransaction = nestedAcquireReporter(guard, {
    resource: "connection",
    fix: `inside a transaction, start the nested one on trx (trx.transaction(), a savepoint) or pass trx down, not on the knex instance: a transaction on it takes another connection of pool "${guard.name}"`,
  });
  const leases = new Map<unknown, Lease<unknown>>();

  // knex starts a query from the builder's then(), which `await` calls from a microtask: the
  // query's own line is not on the stack then. So a builder made on the instance inside one of
  // its transactions (the suspect case, and the only one that pays for a stack) keeps where it
  // was built, and the runner it starts says which builder the next acquire is for.
  const built = new WeakMap<object, BuiltQuery>();
  let starting: object | undefined;
  const markBuilt = (builder: unknown, above: Function): void => {
    if (typeof builder !== "object" && typeof builder !== "function") return;
    if (builder === null) return;
    const task = currentTask();
    if (scopedHoldOf(guard, task) === undefined) return;
    built.set(builder, { task, site: userFrame(above), activation: currentActivation() });
  };
  for (const key of ["queryBuilder", "schemaBuilder", "raw"] as const) {
    const make = client[key];
    if (typeof make !== "function") continue;
    const wrapped = {
      [key](this: unknown, ...args: never[]): unknown {
        const builder = make.apply(this, args);
        markBuilt(builder, wrapped);
        return builder;
      },
    }[key]!;
    client[key] = wrapped;
  }
  const knexRunner = client.runner;
  if (typeof knexRunner === "function") {
    client.runner = function runner(this: unknown, builder: never): unknown {
      starting = builder;
      return knexRunner.call(this, builder);
    };
  }

  async function acquireConnection(): Promise<unknown> {
    const task = currentTask();
    const hold = scopedHoldOf(guard, task);
    const builder = starting;
    starting = undefined;
    if (hold) {
      const q = builder === undefined ? undefined : built.get(builder);
      const mine = q !== undefined && q.task === task ? q : undefined;
      const site = mine?.site ?? userFrame(acquireConnection);
      // reported when asked, not when granted: the request may wait until its time limit
      reportNested(hold, "a query on the knex instance inside a transaction", site, awaitSite(mine?.activation, builder));
    }
    const lease = convert === undefined ? await guard.acquire(acquireOptions) : await guard.acquire(acquireOptions).catch(convert);
    leases.set(lease.resource, lease);
    return lease.resource;
  }

  function releaseConnection(connection: unknown): unknown {
    const lease = leases.get(connection);
    if (lease === undefined) return knexRelease(connection);
    leases.delete(connection);
    lease.release();
    return Promise.resolve();
  }

  // transaction(handler, config?): the handler runs in a scope that holds the connection, which
  // knex is handed through its `connection` option (it then neither acquires nor releases it)
  function transaction(container?: unknown, config?: unknown): unknown {
    const given = config !== null && typeof config === "object" ? (config as { connection?: unknown }) : undefined;
    if (typeof container !== "function" || given?.connection !== undefined) return knexTransaction(container, config);
    const hold = scopedHoldOf(guard, currentTask());
    if (hold) reportNestedTransaction(hold, "a transaction on the knex instance inside a transaction", userFrame(transaction));
    if (convert === undefined) return guard.use((connection) => knexTransaction(container, { ...given, connection }), acquireOptions);
    let granted = false;
    return guard
      .use((connection) => {
        granted = true;
        return knexTransaction(container, { ...given, connection });
      }, acquireOptions)
      .catch((err: unknown) => (granted ? Promise.reject(err) : convert(err)));
  }

  client.acquireConnection = acquireConnection;
  client.releaseConnection = releaseConnection;
  Object.defineProperty(knex, "transaction", { value: transaction, configurable: true, writable: true });
  Object.defineProperty(knex, "guard", { value: guard, configurable: true });
  guarded.add(knex);
  return knex as GuardedKnex<K>;
}
