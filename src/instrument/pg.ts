/**
 * node-postgres, instrumented at load (debug mode). Every `new pg.Pool()` is put under
 * {@link guardPool} as it is constructed, named after the variable it is assigned to, so a
 * holder that asks its own pool again — through `pool.query()`, `pool.connect()` or a bare
 * `connect()` whose client it never released — is reported on the user's pool. pg's own
 * results, errors (its connection timeout included) and FIFO order are kept.
 *
 * Every `Client.query()` (pool clients, bare clients, knex's) is recorded per connection with
 * the task that sent it, so a `40P01 deadlock detected` is reported with both sides: the
 * server's detail names backend PIDs, and `client.processID` maps them back to the program.
 */
import { isThenable } from "../core/validate.js";
import { processWide } from "../core/process-wide.js";
import { guardPool } from "../integrations/pg.js";
import type { PgClientLike, PgPoolLike } from "../integrations/pg.js";
import { attachDiagnosis, ConnectionRecord, handOrigin, originHere, parsePgDeadlockDetail, reportDatabaseDeadlock, takeOrigin } from "./database-deadlock.js";
import type { QueryRecord } from "./database-deadlock.js";
import { isInstrumenting } from "./hooks.js";
import type { Instrumentation, LoadedBy } from "./library.js";
import { constructionName } from "./naming.js";
import { patchExportsAndDefault } from "./library.js";

const MODULE = "pg";

type Ctor = abstract new (...args: never[]) => object;
type QueryFn = (this: object, ...args: unknown[]) => unknown;

interface PgState {
  /** Original Pool class -> its instrumented stand-in (one per class, shared by require and import). */
  readonly pools: WeakMap<object, object>;
  readonly standIns: WeakSet<object>;
  readonly patchedPrototypes: WeakSet<object>;
  readonly connections: WeakMap<object, ConnectionRecord>;
  /** Backend PID -> the connection that has it now (a PID is reused only after its backend ended). */
  readonly byPid: Map<number, WeakRef<ConnectionRecord>>;
}

const state = processWide<PgState>("instrumentPg", () => ({
  pools: new WeakMap(),
  standIns: new WeakSet(),
  patchedPrototypes: new WeakSet(),
  connections: new WeakMap(),
  byPid: new Map(),
}));

function connectionOf(client: object): ConnectionRecord {
  let rec = state.connections.get(client);
  if (rec === undefined) {
    rec = new ConnectionRecord();
    state.connections.set(client, rec);
  }
  return rec;
}

function byBackend(pid: number): ConnectionRecord | undefined {
  const rec = state.byPid.get(pid)?.deref();
  if (rec === undefined) state.byPid.delete(pid);
  return rec;
}

function queryText(first: unknown): string {
  if (typeof first === "string") return first;
  if (first !== null && typeof first === "object" && typeof (first as { text?: unknown }).text === "string") return (first as { text: string }).text;
  return "";
}

/** Reports a 40P01 that came back on `rec`'s connection; the error itself is left as pg made it. */
function observeError(rec: ConnectionRecord, q: QueryRecord, err: unknown): void {
  if (err === null || typeof err !== "object" || (err as { code?: unknown }).code !== "40P01") return;
  const e = err as { detail?: unknown; message?: unknown };
  const d = reportDatabaseDeadlock({
    server: "PostgreSQL",
    backendWord: "backend",
    code: "40P01",
    victim: rec,
    victimQuery: q,
    waits: parsePgDeadlockDetail(typeof e.detail === "string" ? e.detail : undefined),
    byBackend,
    message: typeof e.message === "string" ? e.message : "deadlock detected",
  });
  attachDiagnosis(err, d);
}

/** Wraps `Client.prototype.query` in place: records the query, watches its error. */
function patchClientPrototype(proto: { query?: unknown }): void {
  if (state.patchedPrototypes.has(proto) || typeof proto.query !== "function") return;
  const original = proto.query as QueryFn;
  const query: QueryFn = function (this: object, ...args: unknown[]): unknown {
    const first = args[0];
    // a Submittable (cursor, stream) reports through its own events; pass it untouched
    if (!isInstrumenting(MODULE) || (first !== null && typeof first === "object" && typeof (first as { submit?: unknown }).submit === "function")) {
      return original.apply(this, args);
    }
    const origin = takeOrigin(this) ?? originHere(query);
    const rec = connectionOf(this);
    const pid = (this as { processID?: unknown }).processID;
    if (typeof pid === "number") {
      rec.backend = pid;
      if (state.byPid.get(pid)?.deref() !== rec) {
        // connections come and go: keep the map to the live ones
        if (state.byPid.size >= 1024) for (const [p, ref] of state.byPid) if (ref.deref() === undefined) state.byPid.delete(p);
        state.byPid.set(pid, new WeakRef(rec));
      }
    }
    const q = rec.add(queryText(first), origin);
    const last = args.length - 1;
    const cb = args[last];
    if (last >= 0 && typeof cb === "function") {
      args[last] = function (this: unknown, err: unknown, ...rest: unknown[]): unknown {
        if (err) observeError(rec, q, err);
        return (cb as (...a: unknown[]) => unknown).call(this, err, ...rest);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (!isThenable(result)) return result;
    // the same value or the same error, through the promise type pg was given (options.Promise)
    return result.then(undefined, (err: unknown) => {
      observeError(rec, q, err);
      throw err;
    });
  };
  Object.defineProperty(query, "name", { value: original.name });
  Object.defineProperty(proto, "query", { value: query, configurable: true, writable: true, enumerable: false });
  state.patchedPrototypes.add(proto);
}

/** Puts one pool, just constructed, under guardPool with the user's name for it. */
function instrumentPool(pool: PgPoolLike & object, above: Function): void {
  const { name } = constructionName(above, "pg pool");
  // the guarded query is the frame above which the caller's stack begins
  const guarded: { query?: Function } = {};
  guardPool(pool, {
    name,
    pgErrors: true,
    onPoolQuery: () => {
      const origin = originHere(guarded.query ?? instrumentPool);
      return (client: PgClientLike) => handOrigin(client, origin);
    },
  });
  guarded.query = pool.query;
  // waiters now wait for a permit, not in pg's queue: count them where pg would
  const guard = (pool as unknown as { guard: { waiting: number } }).guard;
  let proto: object | null = Object.getPrototypeOf(pool) as object | null;
  let own: PropertyDescriptor | undefined;
  for (; proto !== null && own === undefined; proto = Object.getPrototypeOf(proto) as object | null)
    own = Object.getOwnPropertyDescriptor(proto, "waitingCount");
  const pgWaiting = own?.get;
  if (pgWaiting !== undefined) {
    Object.defineProperty(pool, "waitingCount", { get: () => (pgWaiting.call(pool) as number) + guard.waiting, configurable: true, enumerable: false });
  }
}

function standInPool(Pool: Ctor): object {
  const known = state.pools.get(Pool);
  if (known !== undefined) return known;
  const standIn = new Proxy(Pool, {
    construct: function construct(target, args, newTarget) {
      const pool = Reflect.construct(target, args, newTarget) as PgPoolLike & object;
      if (isInstrumenting(MODULE)) instrumentPool(pool, construct);
      return pool;
    },
  });
  state.pools.set(Pool, standIn);
  state.standIns.add(standIn);
  return standIn;
}

function patchHolder(holder: Record<string, unknown>): void {
  const Client = holder.Client;
  if (typeof Client === "function" && Client.prototype) patchClientPrototype(Client.prototype as { query?: unknown });
  const Pool = holder.Pool;
  if (typeof Pool === "function" && !state.standIns.has(Pool)) {
    const desc = Object.getOwnPropertyDescriptor(holder, "Pool");
    if (desc === undefined || desc.writable === true || desc.set !== undefined || desc.configurable === true) {
      if (desc?.writable === true || desc?.set !== undefined) holder.Pool = standInPool(Pool as Ctor);
      else
        Object.defineProperty(holder, "Pool", { value: standInPool(Pool as Ctor), configurable: true, writable: true, enumerable: desc?.enumerable ?? true });
    }
  }
}

/** pg's instrumentation. */
export const pgInstrumentation: Instrumentation = {
  module: MODULE,
  esmExports: ["Pool", "Client"],
  esmDefault: true,
  patch(exports: Record<string, unknown>, by: LoadedBy): undefined {
    // pg's ESM entry re-exports its CommonJS object as default: that object is patched too
    patchExportsAndDefault(exports, by, patchHolder);
    return undefined;
  },
};
