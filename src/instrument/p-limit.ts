/**
 * p-limit, instrumented at load (debug mode). Each limiter `pLimit(n)` makes gets an asyncdoctor
 * `Semaphore(n)` in front of it, named after the variable it is assigned to: a call waits there
 * first, in FIFO order as in p-limit, and then runs through p-limit's own limiter (which never
 * queues, since at most n calls pass). A limited function that calls its own limiter while every
 * slot is held by such callers — p-limit's silent hang — is then reported on the user's limiter.
 * Results, errors, `activeCount`, `pendingCount`, `clearQueue()` (with or without
 * `rejectOnClear`) and `concurrency` changes behave as p-limit's.
 */
import { processWide } from "../core/process-wide.js";
import { forward, noteBlocked, OpNode, setNode } from "../core/await-graph.js";
import { markCancelOnly } from "../sync/primitive.js";
import { Semaphore } from "../sync/semaphore.js";
import { isInstrumenting } from "./hooks.js";
import type { Instrumentation, LoadedBy } from "./library.js";
import { constructionName } from "./naming.js";
import { standInFor } from "./library.js";

const MODULE = "p-limit";

interface Limit {
  (fn: (...args: unknown[]) => unknown, ...args: unknown[]): Promise<unknown>;
  readonly activeCount: number;
  readonly pendingCount: number;
  concurrency: number;
  clearQueue(): void;
}
type PLimit = (options: unknown) => Limit;

const state = processWide("instrumentPLimit", () => ({ standIns: new WeakMap<object, object>(), isStandIn: new WeakSet<object>() }));

/** A call waiting in front of p-limit. */
interface Queued {
  readonly controller: AbortController;
  /** Why it left the queue: dropped by clearQueue, or sent straight to p-limit after a concurrency change. */
  leftBecause: "cleared" | "bypass" | undefined;
}

function instrumentLimit(limit: Limit, name: string, rejectOnClear: boolean): Limit {
  const concurrency = limit.concurrency;
  // p-limit allows Infinity: nothing ever waits, so there is nothing to watch
  if (!Number.isInteger(concurrency) || concurrency < 1) return limit;
  const shadow = new Semaphore(concurrency, { name });
  const queued = new Set<Queued>();
  // after a concurrency change the shadow's size is wrong: from then on p-limit limits alone
  let direct = false;

  const limited = function (this: unknown, fn: (...args: unknown[]) => unknown, ...args: unknown[]): Promise<unknown> {
    if (direct || !isInstrumenting(MODULE)) return limit(fn, ...args);
    const entry: Queued = { controller: new AbortController(), leftBecause: undefined };
    queued.add(entry);
    // the signal is clearQueue()'s, not a time limit: a knot through this limiter can be proven
    const op = shadow.runExclusive(
      () => {
        queued.delete(entry);
        // p-limit's promise waits for the user's function, which p-limit starts a tick later
        const node = new OpNode(undefined);
        const p = limit(
          (...a: unknown[]) => {
            const r = fn(...a);
            node.on = r;
            noteBlocked(r);
            return r;
          },
          ...args,
        );
        setNode(p, node);
        return p;
      },
      { signal: markCancelOnly(entry.controller.signal) },
    );
    const out = op.catch((err: unknown) => {
      queued.delete(entry);
      if (entry.leftBecause === "bypass") return limit(fn, ...args);
      if (entry.leftBecause === "cleared") {
        const reason: unknown = entry.controller.signal.reason;
        return reason === CLEARED_SILENTLY ? new Promise<never>(() => {}) : Promise.reject(reason);
      }
      throw err;
    });
    // awaiting the limited call waits for the limiter's operation: the await graph sees through it
    forward(out, op);
    return out;
  };

  const clearWith = (reason: unknown): void => {
    for (const entry of [...queued]) {
      entry.leftBecause = "cleared";
      queued.delete(entry);
      entry.controller.abort(reason);
    }
  };

  Object.defineProperties(limited, {
    activeCount: { get: () => limit.activeCount },
    pendingCount: { get: () => queued.size + limit.pendingCount },
    clearQueue: {
      value() {
        limit.clearQueue();
        // p-limit's dropped calls never settle, or reject with one AbortError per clear
        clearWith(rejectOnClear ? (AbortSignal.abort().reason as unknown) : CLEARED_SILENTLY);
      },
    },
    concurrency: {
      get: () => limit.concurrency,
      set(value: number) {
        limit.concurrency = value;
        direct = true;
        for (const entry of [...queued]) {
          entry.leftBecause = "bypass";
          queued.delete(entry);
          entry.controller.abort();
        }
      },
    },
    map: {
      async value(iterable: Iterable<unknown>, fn: (value: unknown, index: number) => unknown): Promise<unknown[]> {
        const promises: Promise<unknown>[] = [];
        try {
          let index = 0;
          for (const value of iterable) promises.push(limited(fn as (...a: unknown[]) => unknown, value, index++));
        } catch (error) {
          for (const p of promises) p.catch(() => {});
          throw error;
        }
        return Promise.all(promises);
      },
    },
  });
  return limited as unknown as Limit;
}

// the reason a clearQueue without rejectOnClear aborts with: its calls then never settle
const CLEARED_SILENTLY: unique symbol = Symbol("asyncdoctor.p-limit.cleared");

function standIn(pLimit: PLimit): PLimit {
  return standInFor(state, pLimit, {
    apply: function apply(target, thisArg, args: unknown[]) {
      const limit = Reflect.apply(target, thisArg, args) as Limit;
      if (!isInstrumenting(MODULE)) return limit;
      const options: unknown = args[0];
      const rejectOnClear = options !== null && typeof options === "object" && (options as { rejectOnClear?: unknown }).rejectOnClear === true;
      return instrumentLimit(limit, constructionName(apply, "p-limit").name, rejectOnClear);
    },
  });
}

function standInLimitFunction(instrumentedPLimit: PLimit): (fn: (...a: unknown[]) => unknown, options: unknown) => unknown {
  return function limitFunction(fn: (...a: unknown[]) => unknown, options: unknown) {
    const limit = instrumentedPLimit(options);
    const limitedFunction = (...args: unknown[]) => limit(() => fn(...args));
    Object.defineProperty(limitedFunction, "clearQueue", { value: limit.clearQueue });
    return limitedFunction;
  };
}

/** p-limit's instrumentation (an ESM-only package: `import` only). */
export const pLimitInstrumentation: Instrumentation = {
  module: MODULE,
  esmExports: ["limitFunction"],
  esmDefault: true,
  patch(exports: Record<string, unknown>, by: LoadedBy): unknown {
    const f = by === "require" ? exports : exports.default;
    if (typeof f !== "function" || state.isStandIn.has(f)) return undefined;
    const proxy = standIn(f as PLimit);
    if (by === "require") return proxy;
    exports.default = proxy;
    if (typeof exports.limitFunction === "function") exports.limitFunction = standInLimitFunction(proxy);
    return undefined;
  },
};
