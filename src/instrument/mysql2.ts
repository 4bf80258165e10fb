/**
 * mysql2, instrumented at load (debug mode), for its callback API (`mysql2`) and its promise API
 * (`mysql2/promise`), which share one core pool. Each pool `createPool()` makes gets an
 * asyncdoctor `Pool.guard` of `connectionLimit` permits in front of it, named after the variable
 * it is assigned to: `getConnection()`, `query()` and `execute()` on the pool all take a permit
 * first, so mysql2 itself never queues, and a holder that asks its own pool again is watched.
 * `waitForConnections: false` and `queueLimit` keep mysql2's own errors.
 *
 * Every connection's `query()` / `execute()` with a callback (the promise API always passes one)
 * is recorded, so an `ER_LOCK_DEADLOCK` is reported as a database deadlock. The server names no
 * other side, so the other instrumented connections with a statement in flight inside an open
 * transaction are named as the likely other side.
 */
import { processWide } from "../core/process-wide.js";
import { Pool } from "../sync/pool.js";
import { attachDiagnosis, ConnectionRecord, originHere, overlapping, reportDatabaseDeadlock, takeOrigin } from "./database-deadlock.js";
import type { QueryRecord } from "./database-deadlock.js";
import { isInstrumenting } from "./hooks.js";
import type { Instrumentation, LoadedBy } from "./library.js";
import { constructionName } from "./naming.js";
import { patchExportsAndDefault, standInFor } from "./library.js";

const MODULE = "mysql2";
type Fn = (...args: unknown[]) => unknown;
type Callback = (err: unknown, ...rest: unknown[]) => void;

interface CorePool {
  getConnection(cb: Callback): void;
  config?: { connectionLimit?: number; waitForConnections?: boolean; queueLimit?: number };
}
interface CoreConnection {
  release(): void;
  destroy(): void;
  threadId?: number | null;
}

interface State {
  readonly standIns: WeakMap<object, object>;
  readonly isStandIn: WeakSet<object>;
  readonly patchedPrototypes: WeakSet<object>;
  readonly guardedPools: WeakSet<object>;
  readonly connections: WeakMap<object, ConnectionRecord>;
  /** Every connection seen, for naming the likely other side of a deadlock. */
  readonly live: Set<WeakRef<ConnectionRecord>>;
}

const state = processWide<State>("instrumentMysql2", () => ({
  standIns: new WeakMap(),
  isStandIn: new WeakSet(),
  patchedPrototypes: new WeakSet(),
  guardedPools: new WeakSet(),
  connections: new WeakMap(),
  live: new Set(),
}));

// the reason a lease is given back for a connection that was destroyed: mysql2 already freed its slot
const DESTROYED: unique symbol = Symbol("asyncdoctor.mysql2.destroyed");

function connectionOf(conn: object): ConnectionRecord {
  let rec = state.connections.get(conn);
  if (rec === undefined) {
    rec = new ConnectionRecord();
    state.connections.set(conn, rec);
    // connections come and go: keep the set to the live ones
    if (state.live.size >= 1024) for (const ref of state.live) if (ref.deref() === undefined) state.live.delete(ref);
    state.live.add(new WeakRef(rec));
  }
  return rec;
}

function liveConnections(): ConnectionRecord[] {
  const out: ConnectionRecord[] = [];
  for (const ref of state.live) {
    const rec = ref.deref();
    if (rec === undefined) state.live.delete(ref);
    else out.push(rec);
  }
  return out;
}

function observeError(rec: ConnectionRecord, q: QueryRecord, err: unknown): void {
  if (err === null || typeof err !== "object") return;
  const e = err as { code?: unknown; errno?: unknown; message?: unknown };
  if (e.code !== "ER_LOCK_DEADLOCK" && e.errno !== 1213) return;
  const d = reportDatabaseDeadlock({
    server: "MySQL",
    backendWord: "thread",
    code: "ER_LOCK_DEADLOCK",
    victim: rec,
    victimQuery: q,
    waits: [],
    byBackend: () => undefined,
    candidates: overlapping(q, rec, liveConnections()),
    message: typeof e.message === "string" ? e.message : "Deadlock found when trying to get lock",
  });
  attachDiagnosis(err, d);
}

function queryText(first: unknown): string {
  if (typeof first === "string") return first;
  if (first !== null && typeof first === "object" && typeof (first as { sql?: unknown }).sql === "string") return (first as { sql: string }).sql;
  return "";
}

/** Wraps `query` and `execute` where the connection class defines them, in place. */
function patchConnectionPrototype(conn: object): void {
  for (
    let proto = Object.getPrototypeOf(conn) as Record<string, unknown> | null;
    proto !== null;
    proto = Object.getPrototypeOf(proto) as Record<string, unknown> | null
  ) {
    if (state.patchedPrototypes.has(proto)) return;
    if (!Object.hasOwn(proto, "query") || typeof proto.query !== "function") continue;
    state.patchedPrototypes.add(proto);
    for (const method of ["query", "execute"]) {
      const original = proto[method];
      if (typeof original !== "function") continue;
      const wrapped = function (this: object, ...args: unknown[]): unknown {
        const last = args.length - 1;
        const cb = args[last];
        // without a callback the statement reports through its own events: leave those alone
        if (!isInstrumenting(MODULE) || last < 0 || typeof cb !== "function") return (original as Fn).apply(this, args);
        const rec = connectionOf(this);
        const threadId = (this as CoreConnection).threadId;
        if (typeof threadId === "number") rec.backend = threadId;
        const q = rec.add(queryText(args[0]), takeOrigin(this) ?? originHere(wrapped));
        rec.inFlight++;
        args[last] = function (this: unknown, err: unknown, ...rest: unknown[]): unknown {
          rec.inFlight--;
          q.doneAt = performance.now();
          if (err) observeError(rec, q, err);
          return (cb as Fn).call(this, err, ...rest);
        };
        return (original as Fn).apply(this, args);
      };
      Object.defineProperty(wrapped, "name", { value: (original as Fn).name });
      Object.defineProperty(proto, method, { value: wrapped, configurable: true, writable: true, enumerable: false });
    }
    return;
  }
}

/** Puts one core pool under a guard of its connectionLimit, named `name`. */
function guardCorePool(pool: CorePool, name: string): void {
  if (state.guardedPools.has(pool)) return;
  const limit = pool.config?.connectionLimit;
  // connectionLimit 0 means unlimited: nothing ever waits
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) return;
  state.guardedPools.add(pool);
  const original: (cb: Callback) => void = pool.getConnection.bind(pool);
  const releaseOf = new WeakMap<object, () => void>();
  const guard = Pool.guard<CoreConnection>(
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- mysql2's own error, passed on as it came
    () => new Promise<CoreConnection>((resolve, reject) => original((err, conn) => (err ? reject(err) : resolve(conn as CoreConnection)))),
    (conn, err) => {
      if (err !== DESTROYED) releaseOf.get(conn)?.();
    },
    { max: limit, name },
  );
  function getConnection(this: unknown, cb: Callback): void {
    if (!isInstrumenting(MODULE) || typeof cb !== "function") return original(cb);
    const config = pool.config ?? {};
    // mysql2's own answers when it would not queue, or its queue is full
    if (config.waitForConnections === false && guard.available === 0) return original(cb);
    if (config.queueLimit && guard.waiting >= config.queueLimit) return cb(new Error("Queue limit reached."));
    guard.acquire().then(
      (lease) => {
        const conn = lease.resource;
        patchConnectionPrototype(conn);
        const proto = Object.getPrototypeOf(conn) as CoreConnection;
        releaseOf.set(conn, () => proto.release.call(conn));
        // the lease ends when mysql2's connection is released or destroyed, once
        let done = false;
        const end = (how: "release" | "destroy") => {
          if (done) return;
          done = true;
          delete (conn as { release?: unknown }).release;
          delete (conn as { destroy?: unknown }).destroy;
          if (how === "release") lease.release();
          else lease.discard(DESTROYED);
        };
        Object.defineProperty(conn, "release", { value: () => end("release"), configurable: true, writable: true, enumerable: false });
        Object.defineProperty(conn, "destroy", {
          value: () => {
            end("destroy");
            proto.destroy.call(conn);
          },
          configurable: true,
          writable: true,
          enumerable: false,
        });
        cb(null, conn);
      },
      (err: unknown) => cb(err),
    );
  }
  Object.defineProperty(pool, "getConnection", { value: getConnection, configurable: true, writable: true, enumerable: false });
  Object.defineProperty(pool, "guard", { value: guard, configurable: true, enumerable: false });
}

function corePoolOf(made: unknown): CorePool | undefined {
  if (made === null || typeof made !== "object") return undefined;
  const inner = (made as { pool?: unknown }).pool;
  const pool = inner !== null && typeof inner === "object" && typeof (inner as CorePool).getConnection === "function" ? inner : made;
  return typeof (pool as CorePool).getConnection === "function" ? (pool as CorePool) : undefined;
}

function standInCreatePool(createPool: Fn): Fn {
  return standInFor(state, createPool, {
    apply: function apply(target, thisArg, args: unknown[]) {
      const made: unknown = Reflect.apply(target, thisArg, args);
      const core = isInstrumenting(MODULE) ? corePoolOf(made) : undefined;
      if (core !== undefined) guardCorePool(core, constructionName(apply, "mysql pool").name);
      return made;
    },
  });
}

function standInCreateConnection(createConnection: Fn): Fn {
  return standInFor(state, createConnection, {
    apply(target, thisArg, args: unknown[]) {
      const made: unknown = Reflect.apply(target, thisArg, args);
      if (!isInstrumenting(MODULE)) return made;
      // the promise API resolves to a wrapper whose `connection` is the core one
      const patch = (c: unknown) => {
        const core = c !== null && typeof c === "object" && "connection" in c ? c.connection : c;
        if (core !== null && typeof core === "object") patchConnectionPrototype(core);
      };
      if (made !== null && typeof made === "object" && typeof (made as { then?: unknown }).then === "function")
        (made as Promise<unknown>).then(patch, () => {});
      else patch(made);
      return made;
    },
  });
}

function patchHolder(holder: Record<string, unknown>): void {
  for (const key of ["createPool", "createConnection", "connect"]) {
    const f = holder[key];
    if (typeof f !== "function" || state.isStandIn.has(f)) continue;
    const desc = Object.getOwnPropertyDescriptor(holder, key);
    if (desc !== undefined && desc.writable !== true) continue;
    holder[key] = key === "createPool" ? standInCreatePool(f as Fn) : standInCreateConnection(f as Fn);
  }
}

function instrumentation(module: string): Instrumentation {
  return {
    module,
    esmExports: ["createPool", "createConnection"],
    esmDefault: true,
    patch(exports: Record<string, unknown>, by: LoadedBy): undefined {
      patchExportsAndDefault(exports, by, patchHolder);
      return undefined;
    },
  };
}

/** mysql2's instrumentation (its callback API). */
export const mysql2Instrumentation: Instrumentation = instrumentation("mysql2");
/** mysql2's promise API, the same pools underneath. */
export const mysql2PromiseInstrumentation: Instrumentation = instrumentation("mysql2/promise");
