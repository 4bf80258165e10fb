/**
 * typeorm, instrumented at load (debug mode):
 * - a managed transaction (`dataSource.transaction(async (manager) => …)`) holds one
 *   connection of the data source's pool while its callback runs; a query inside it through the
 *   global manager (`dataSource.manager`, a repository of the data source) makes a query runner
 *   of its own, that is another connection of the same pool. It is reported as a potential
 *   `pool-exhaustion` at the user's line, once per line: with as many transactions as the pool
 *   has connections, each waits for ever (typeorm's pg pool has no acquire timeout by default).
 * - a query runner the user's code creates (`dataSource.createQueryRunner()`), connected and
 *   never released, holds its connection for ever: it is tracked as a resource opened at the
 *   line that created it, and reported as a `leaked-resource` at exit if it was not released.
 *
 * Nothing of typeorm's behaviour changes: its methods are wrapped in place, on its classes.
 */
import { performance } from "node:perf_hooks";
import { processWide } from "../core/process-wide.js";
import { captureFrames, frameFileName } from "../core/site.js";
import type { Site } from "../core/site.js";
import { currentTask } from "../core/task.js";
import { addObservedResource, nextResourceId } from "../diagnose/resources.js";
import type { ResourceEntry } from "../diagnose/resources.js";
import { isUserFile, UserFrames } from "../diagnose/user-site.js";
import { isInstrumenting } from "./hooks.js";
import type { Instrumentation, LoadedBy } from "./library.js";
import { reportSecondConnection, runInTransaction, transactionOf } from "./orm-transaction.js";
import type { OrmPool } from "./orm-transaction.js";
import { wrapMethod } from "./prototype-patch.js";
import type { Method } from "./prototype-patch.js";
import { patchExportsAndDefault } from "./library.js";

/** A class, as far as patching its prototype goes. */
interface Klass {
  readonly prototype: Record<string, unknown>;
}

const MODULE = "typeorm";

interface DataSourceLike {
  readonly options?: {
    readonly type?: string;
    readonly database?: unknown;
    readonly poolSize?: number;
    readonly extra?: { readonly max?: number; readonly connectionLimit?: number };
  };
}
interface RunnerLike {
  isReleased?: boolean;
  connect?: Method;
}

const state = processWide("instrumentTypeorm", () => ({ pools: new WeakMap<object, OrmPool>() }));

function poolOf(ds: DataSourceLike & object): OrmPool {
  let pool = state.pools.get(ds);
  if (pool === undefined) {
    const o = ds.options ?? {};
    const db = typeof o.database === "string" ? `, database "${o.database}"` : "";
    const max = o.poolSize ?? o.extra?.max ?? o.extra?.connectionLimit;
    pool = {
      name: `typeorm data source (${o.type ?? "sql"}${db})`,
      site: undefined,
      // the pg and mysql drivers' pools hold 10 connections by default
      max: typeof max === "number" ? max : 10,
      resource: "connection",
      fix: "inside dataSource.transaction(), run every query through the manager the callback is given (manager.query, manager.getRepository), not the data source's global manager or its repositories: each of those takes another connection of the pool",
    };
    state.pools.set(ds, pool);
  }
  return pool;
}

/** A query runner made by the user's code: a resource from its first connect() until release(). */
function trackRunner(runner: RunnerLike & object, ds: DataSourceLike & object, frames: UserFrames): void {
  const connect = runner.connect;
  if (typeof connect !== "function" || !Object.isExtensible(runner)) return;
  const ref = new WeakRef(runner);
  let tracked = false;
  const taskName = currentTask()?.name;
  const createdAt = performance.now();
  Object.defineProperty(runner, "connect", {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function (this: unknown, ...args: unknown[]): unknown {
      const p = connect.apply(this, args);
      if (tracked || p === null || typeof p !== "object" || typeof (p as { then?: unknown }).then !== "function") return p;
      tracked = true;
      // resolved now, once: the entry must not keep V8's frames (they reference the runner)
      const site: Site | undefined = frames.site;
      const entry: ResourceEntry = {
        id: nextResourceId(),
        name: `query runner of ${poolOf(ds).name}`,
        createdAt,
        taskName,
        scope: undefined,
        get closed(): boolean {
          const r = ref.deref();
          return r === undefined || r.isReleased === true;
        },
        set closed(_: boolean) {
          // its state is the runner's own (isReleased)
        },
        site,
        why: "it was connected (it holds a connection of the pool) and never released: call queryRunner.release() in a finally block",
      };
      // it holds a connection once connect() resolves (a runner still waiting for one holds nothing);
      // the caller gets the same value or the same rejection, through this promise
      return (p as Promise<unknown>).then((v) => {
        addObservedResource(entry);
        return v;
      });
    },
  });
}

function patchDataSource(DataSource: Klass): void {
  wrapMethod(
    DataSource.prototype,
    "createQueryRunner",
    (original) =>
      function createQueryRunner(this: unknown, ...args: unknown[]): unknown {
        const runner = original.apply(this, args);
        if (!isInstrumenting(MODULE) || this === null || typeof this !== "object") return runner;
        const ds = this as DataSourceLike & object;
        const scope = transactionOf(ds);
        if (scope !== undefined) {
          reportSecondConnection(
            scope,
            "a query runner of its own: a query on the global manager, not the transaction's",
            new UserFrames(createQueryRunner, 16),
          );
        }
        // made by the user's code itself (not by typeorm for one query, which releases it)
        const caller = captureFrames(createQueryRunner, 1)[0];
        const file = caller === undefined ? undefined : frameFileName(caller);
        if (runner !== null && typeof runner === "object" && file !== undefined && isUserFile(file)) {
          trackRunner(runner, ds, new UserFrames(createQueryRunner, 2));
        }
        return runner;
      },
  );
}

function patchEntityManager(EntityManager: Klass): void {
  wrapMethod(
    EntityManager.prototype,
    "transaction",
    (original) =>
      function transaction(this: unknown, ...args: unknown[]): unknown {
        const self = this as { connection?: unknown; queryRunner?: unknown } | null;
        const ds = self?.connection;
        // a manager with a runner of its own is the transaction's: a nested call reuses its connection
        if (!isInstrumenting(MODULE) || ds === null || typeof ds !== "object" || self?.queryRunner !== undefined) return original.apply(this, args);
        const at = typeof args[0] === "function" ? 0 : typeof args[1] === "function" ? 1 : -1;
        if (at >= 0) {
          const callback = args[at] as Method;
          const begun = new UserFrames(transaction, 12);
          args[at] = function (this: unknown, ...a: unknown[]): unknown {
            return runInTransaction(ds, poolOf(ds as DataSourceLike & object), begun, () => callback.apply(this, a));
          };
        }
        return original.apply(this, args);
      },
  );
}

const isClass = (v: unknown): v is Klass => typeof v === "function" && typeof (v as { prototype?: unknown }).prototype === "object";

/** typeorm's instrumentation. */
export const typeormInstrumentation: Instrumentation = {
  module: MODULE,
  esmExports: [],
  esmDefault: true,
  patch(exports: Record<string, unknown>, by: LoadedBy): undefined {
    patchExportsAndDefault(exports, by, (h) => {
      if (isClass(h.DataSource)) patchDataSource(h.DataSource);
      if (isClass(h.EntityManager)) patchEntityManager(h.EntityManager);
    });
    return undefined;
  },
};
