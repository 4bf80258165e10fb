/**
 * knex, instrumented at load (debug mode). Every instance `knex(config)` makes is put under
 * {@link guardKnex} as it is made, named after the variable it is assigned to, so a query on the
 * knex instance inside `knex.transaction()` (instead of `trx`), in as many transactions at once
 * as the pool has connections, is reported on the user's own instance at once, not after
 * `acquireConnectionTimeout`. A wait past that timeout still fails with knex's own
 * `KnexTimeoutError`. knex's pg driver goes through the pg instrumentation, so the database's
 * deadlocks are reported for knex queries too.
 */
import { processWide } from "../core/process-wide.js";
import { guardKnex } from "../integrations/knex.js";
import type { KnexLike } from "../integrations/knex.js";
import { handOrigin, originHere } from "./database-deadlock.js";
import type { QueryOrigin } from "./database-deadlock.js";
import { isInstrumenting } from "./hooks.js";
import { definer, wrapMethod } from "./prototype-patch.js";
import type { Instrumentation, LoadedBy } from "./library.js";
import { constructionName } from "./naming.js";

const MODULE = "knex";
type KnexFactory = ((...args: unknown[]) => unknown) & { KnexTimeoutError?: unknown };

const state = processWide("instrumentKnex", () => ({
  standIns: new WeakMap<object, object>(),
  isStandIn: new WeakSet<object>(),
  patchedRunners: new WeakSet<object>(),
  /** Where each builder was made: the user's line of its query. */
  origins: new WeakMap<object, QueryOrigin>(),
}));

/**
 * A builder's query is sent from its `then()`, which `await` calls a microtask later, so the
 * driver sees only knex on the stack. The user's line is on it when the builder is made: keep
 * it (a short raw stack, resolved only by a report), and hand it to the driver when the runner
 * sends the builder's query on its connection. The methods live on the client's prototype, so
 * transaction clients (made from the same prototype) are covered too.
 */
function instrumentQueries(client: object): void {
  for (const key of ["queryBuilder", "schemaBuilder", "raw"]) {
    const holder = definer(client, key);
    if (holder === undefined) continue;
    wrapMethod(
      holder,
      key,
      (original) =>
        function builder(this: unknown, ...args: unknown[]): unknown {
          const made = original.apply(this, args);
          if (isInstrumenting(MODULE) && made !== null && (typeof made === "object" || typeof made === "function"))
            state.origins.set(made, originHere(builder));
          return made;
        },
    );
  }
  const holder = definer(client, "runner");
  if (holder === undefined) return;
  wrapMethod(
    holder,
    "runner",
    (original) =>
      function runner(this: unknown, ...args: unknown[]): unknown {
        const made = original.apply(this, args);
        if (made !== null && typeof made === "object") patchRunner(made);
        return made;
      },
  );
}

/** Wraps the runner class's `query(obj)`, which sends one statement of its builder on its connection. */
function patchRunner(runner: object): void {
  const proto = Object.getPrototypeOf(runner) as object | null;
  if (proto === null || state.patchedRunners.has(proto)) return;
  state.patchedRunners.add(proto);
  const holder = definer(runner, "query");
  if (holder === undefined) return;
  wrapMethod(
    holder,
    "query",
    (original) =>
      function query(this: unknown, ...args: unknown[]): unknown {
        const { builder, connection } = (this ?? {}) as { builder?: unknown; connection?: unknown };
        if (builder !== null && typeof builder === "object" && connection !== null && typeof connection === "object") {
          const origin = state.origins.get(builder);
          if (origin !== undefined) handOrigin(connection, origin);
        }
        return original.apply(this, args);
      },
  );
}

// knex's own message for a wait past acquireConnectionTimeout
const KNEX_TIMEOUT_MESSAGE = "Knex: Timeout acquiring a connection. The pool is probably full. Are you missing a .transacting(trx) call?";

function timeoutErrorOf(factory: KnexFactory): (cause: Error) => Error {
  const Klass = factory.KnexTimeoutError;
  return (cause) => {
    const err = typeof Klass === "function" ? new (Klass as new (m: string) => Error)(KNEX_TIMEOUT_MESSAGE) : new Error(KNEX_TIMEOUT_MESSAGE);
    (err as { cause?: unknown }).cause = cause;
    return err;
  };
}

function isKnexInstance(v: unknown): v is KnexLike {
  return (
    typeof v === "function" && typeof (v as { transaction?: unknown }).transaction === "function" && typeof (v as { client?: unknown }).client === "object"
  );
}

function standIn(factory: KnexFactory): object {
  const known = state.standIns.get(factory);
  if (known !== undefined) return known;
  const timeoutError = timeoutErrorOf(factory);
  const proxy: object = new Proxy(factory, {
    apply: function apply(target, thisArg, args) {
      const instance: unknown = Reflect.apply(target, thisArg, args);
      // knex(existingInstance-config) with a pool-less client (no connection) has nothing to guard
      if (isInstrumenting(MODULE) && isKnexInstance(instance) && typeof instance.client.acquireConnection === "function") {
        // before guardKnex, which wraps the instance's own builder factories around these
        instrumentQueries(instance.client);
        guardKnex(instance, { name: constructionName(apply, "knex").name, timeoutError });
      }
      return instance;
    },
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      // knex.knex and knex.default are the factory itself
      return v === target ? proxy : v;
    },
  });
  state.standIns.set(factory, proxy);
  state.isStandIn.add(proxy);
  return proxy;
}

/** knex's instrumentation. */
export const knexInstrumentation: Instrumentation = {
  module: MODULE,
  esmExports: ["knex"],
  esmDefault: true,
  patch(exports: Record<string, unknown>, by: LoadedBy): unknown {
    if (by === "require") return typeof exports === "function" && !state.isStandIn.has(exports) ? standIn(exports) : undefined;
    for (const key of ["default", "knex"]) {
      const f = exports[key];
      if (typeof f === "function" && !state.isStandIn.has(f)) exports[key] = standIn(f as KnexFactory);
    }
    return undefined;
  },
};
