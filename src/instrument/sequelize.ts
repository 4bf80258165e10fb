/**
 * sequelize, instrumented at load (debug mode). A managed transaction
 * (`sequelize.transaction(async (t) => …)`) holds one connection of the instance's pool while
 * its callback runs; a query inside it without `{ transaction: t }` (and without CLS), or a
 * second managed transaction started inside it, takes another connection of the same pool.
 * Each such request is reported as a potential `pool-exhaustion` at the user's line (the call
 * of the model method, and the await of the transaction that waits for it), once per line:
 * with as many transactions as the pool has connections, each waits for ever, until the
 * pool's `acquire` timeout fails them all with `ConnectionAcquireTimeoutError`.
 *
 * Nothing of sequelize's behaviour changes: its methods are wrapped in place, on its classes.
 */
import { UserFrames } from "../diagnose/user-site.js";
import { isInstrumenting } from "./hooks.js";
import type { Instrumentation, LoadedBy } from "./library.js";
import { inAnyTransaction, reportSecondConnection, runInTransaction, transactionOf, withUserCall } from "./orm-transaction.js";
import type { OrmPool } from "./orm-transaction.js";
import { definer, wrapMethod } from "./prototype-patch.js";
import { readStarted, saveStarted } from "./sequelize-lost-update.js";
import type { InstanceLike } from "./sequelize-lost-update.js";
import type { Method } from "./prototype-patch.js";
import { processWide } from "../core/process-wide.js";

/** A class, as far as patching its prototype goes. */
interface Klass {
  readonly prototype: Record<string, unknown>;
}

const MODULE = "sequelize";

/** The model methods that run queries, static and on instances. */
const MODEL_STATICS = [
  "findAll",
  "findOne",
  "findByPk",
  "findAndCountAll",
  "findOrCreate",
  "findOrBuild",
  "findCreateFind",
  "count",
  "aggregate",
  "max",
  "min",
  "sum",
  "create",
  "bulkCreate",
  "update",
  "upsert",
  "destroy",
  "restore",
  "increment",
  "decrement",
  "truncate",
] as const;
const MODEL_METHODS = ["save", "update", "destroy", "restore", "reload", "increment", "decrement"] as const;

interface SequelizeLike {
  readonly connectionManager?: object;
  readonly options?: { readonly dialect?: string; readonly pool?: { readonly max?: number } };
  readonly config?: { readonly database?: string };
}

const state = processWide("instrumentSequelize", () => ({ pools: new WeakMap<object, OrmPool>(), patched: new WeakSet<object>() }));

function poolOf(sequelize: SequelizeLike & object): OrmPool {
  let pool = state.pools.get(sequelize);
  if (pool === undefined) {
    const dialect = sequelize.options?.dialect ?? "sql";
    const db = sequelize.config?.database;
    const max = sequelize.options?.pool?.max;
    pool = {
      name: `sequelize (${dialect}${db ? `, database "${db}"` : ""})`,
      site: undefined,
      // sequelize's default pool holds 5 connections
      max: typeof max === "number" ? max : 5,
      resource: "connection",
      fix: "inside a managed transaction, pass { transaction: t } to every query (or enable CLS with Sequelize.useCLS()), and start nested transactions with { transaction: t } (a savepoint): each call without it takes another connection of the pool",
    };
    state.pools.set(sequelize, pool);
  }
  return pool;
}

/** Wraps the connection manager's getConnection(): the moment a query or a transaction asks the pool. */
function patchConnectionManager(sequelize: SequelizeLike & object): void {
  const manager = sequelize.connectionManager;
  if (manager === undefined || manager === null || state.patched.has(manager)) return;
  state.patched.add(manager);
  const holder = definer(manager, "getConnection");
  if (holder === undefined) return;
  wrapMethod(
    holder,
    "getConnection",
    (original) =>
      function getConnection(this: unknown, ...args: unknown[]): unknown {
        const owner = (this as { sequelize?: unknown } | null)?.sequelize;
        const scope = isInstrumenting(MODULE) && owner !== null && typeof owner === "object" ? transactionOf(owner) : undefined;
        if (scope !== undefined) {
          const opts = args[0] as { uuid?: unknown } | undefined;
          const how =
            opts?.uuid !== undefined
              ? "a transaction of its own, not nested in the one it runs inside (no { transaction })"
              : "a query without { transaction } inside a transaction";
          reportSecondConnection(scope, how, new UserFrames(getConnection, 16));
        }
        return original.apply(this, args);
      },
  );
}

/** A method that records where the user called it, when it runs inside a transaction. */
const recordingCall = (original: Method): Method =>
  function call(this: unknown, ...args: unknown[]): unknown {
    if (!inAnyTransaction()) return original.apply(this, args);
    return withUserCall(call, () => original.apply(this, args));
  };

function patchSequelize(Sequelize: Klass): void {
  const proto = Sequelize.prototype;
  wrapMethod(
    proto,
    "transaction",
    (original) =>
      function transaction(this: unknown, ...args: unknown[]): unknown {
        if (!isInstrumenting(MODULE) || this === null || typeof this !== "object") return original.apply(this, args);
        const owner = this as SequelizeLike & object;
        patchConnectionManager(owner);
        const at = typeof args[0] === "function" ? 0 : typeof args[1] === "function" ? 1 : -1;
        if (at >= 0) {
          const callback = args[at] as Method;
          const begun = new UserFrames(transaction, 12);
          args[at] = function (this: unknown, ...a: unknown[]): unknown {
            return runInTransaction(owner, poolOf(owner), begun, () => callback.apply(this, a));
          };
        }
        return inAnyTransaction() ? withUserCall(transaction, () => original.apply(this, args)) : original.apply(this, args);
      },
  );
  wrapMethod(proto, "query", recordingCall);
}

/** Calls `original`, then `after(value)` once it fulfils; the caller gets the same value or rejection. */
function thenAfter(result: unknown, after: (value: unknown) => void): unknown {
  if (result === null || typeof result !== "object" || typeof (result as { then?: unknown }).then !== "function") return result;
  return (result as Promise<unknown>).then((v) => {
    after(v);
    return v;
  });
}

/** Reads stamp the instances they load; saves are checked against the other saves of the row. */
function patchLoadModifySave(Model: Klass): void {
  const statics = Model as unknown as Record<string, unknown>;
  const recording = (original: Method, self: unknown, args: unknown[], above: Function): unknown =>
    inAnyTransaction() ? withUserCall(above, () => original.apply(self, args)) : original.apply(self, args);
  wrapMethod(
    statics,
    "findAll",
    (original) =>
      function findAll(this: unknown, ...args: unknown[]): unknown {
        if (!isInstrumenting(MODULE)) return original.apply(this, args);
        const stamp = readStarted(findAll);
        return thenAfter(recording(original, this, args, findAll), stamp);
      },
  );
  wrapMethod(
    Model.prototype,
    "reload",
    (original) =>
      function reload(this: unknown, ...args: unknown[]): unknown {
        if (!isInstrumenting(MODULE)) return original.apply(this, args);
        const stamp = readStarted(reload);
        return thenAfter(recording(original, this, args, reload), stamp);
      },
  );
  wrapMethod(
    Model.prototype,
    "save",
    (original) =>
      function save(this: unknown, ...args: unknown[]): unknown {
        const watch = isInstrumenting(MODULE) && this !== null && typeof this === "object" ? saveStarted(this as InstanceLike, save) : undefined;
        const result = recording(original, this, args, save);
        return watch === undefined ? result : thenAfter(result, watch);
      },
  );
  wrapMethod(
    statics,
    "create",
    (original) =>
      function create(this: unknown, ...args: unknown[]): unknown {
        const result = recording(original, this, args, create);
        // a created row is what its instance wrote: later saves of it start from there
        return isInstrumenting(MODULE) ? thenAfter(result, (made) => readStarted(create)(made)) : result;
      },
  );
}

function patchModel(Model: Klass): void {
  patchLoadModifySave(Model);
  const statics = Model as unknown as Record<string, unknown>;
  for (const key of MODEL_STATICS) if (Object.hasOwn(statics, key)) wrapMethod(statics, key, recordingCall);
  for (const key of MODEL_METHODS) if (Object.hasOwn(Model.prototype, key)) wrapMethod(Model.prototype, key, recordingCall);
}

const isClass = (v: unknown): v is Klass => typeof v === "function" && typeof (v as { prototype?: unknown }).prototype === "object";

/** sequelize's instrumentation. */
export const sequelizeInstrumentation: Instrumentation = {
  module: MODULE,
  esmExports: [],
  esmDefault: true,
  patch(exports: Record<string, unknown>, by: LoadedBy): undefined {
    // sequelize's exports are the Sequelize class itself (with .Sequelize, .Model, .default)
    const root = by === "import" ? (exports.default ?? exports) : exports;
    for (const holder of [root, exports] as unknown[]) {
      if (holder === null || (typeof holder !== "object" && typeof holder !== "function")) continue;
      const h = holder as Record<string, unknown>;
      const S = isClass(h.Sequelize)
        ? h.Sequelize
        : isClass(holder) && typeof (holder as { prototype: Record<string, unknown> }).prototype.transaction === "function"
          ? holder
          : undefined;
      if (S !== undefined && typeof S.prototype.transaction === "function") patchSequelize(S);
      if (isClass(h.Model)) patchModel(h.Model);
    }
    return undefined;
  },
};
