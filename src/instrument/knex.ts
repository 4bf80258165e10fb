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
import { isInstrumenting } from "./hooks.js";
import type { Instrumentation, LoadedBy } from "./library.js";
import { constructionName } from "./naming.js";

const MODULE = "knex";
type KnexFactory = ((...args: unknown[]) => unknown) & { KnexTimeoutError?: unknown };

const state = processWide("instrumentKnex", () => ({ standIns: new WeakMap<object, object>(), isStandIn: new WeakSet<object>() }));

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
