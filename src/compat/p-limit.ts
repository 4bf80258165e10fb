/**
 * A drop-in for p-limit 7 (`pLimit(concurrency)` with `activeCount`, `pendingCount`,
 * `clearQueue`, `concurrency`, `map`, and `limitFunction`) built on asyncdoctor's engine: each
 * limited call runs as its own scope, so a limited function that calls the same limit again
 * while every slot is taken by such callers is rejected with `DeadlockError`
 * (`pool-exhaustion`, or `deadlock-reentrant` with concurrency 1) instead of hanging.
 *
 * Differences from p-limit (see docs/primitives/compat.md): a call starts its function in the
 * same tick when a slot is free (p-limit starts it a microtask later); argument errors name the
 * argument and the value received.
 */
import { InvalidArgTypeError } from "../core/validate.js";
import { HolderKind, Primitive } from "../sync/primitive.js";

/** The limiter `pLimit` returns. */
export interface LimitFunction {
  /** Runs `fn(...args)` when a slot is free. */
  <Args extends unknown[], R>(fn: (...args: Args) => PromiseLike<R> | R, ...args: Args): Promise<R>;
  /** Calls running now. */
  readonly activeCount: number;
  /** Calls waiting for a slot. */
  readonly pendingCount: number;
  /** How many calls may run at once (settable). */
  concurrency: number;
  /** Drops the waiting calls (their promises never settle, or reject with `rejectOnClear`). */
  clearQueue(): void;
  /** Runs `fn(value, index)` for every element under the limit; resolves with all results. */
  map<T, R>(iterable: Iterable<T>, fn: (value: T, index: number) => PromiseLike<R> | R): Promise<R[]>;
}

/** Options of {@link pLimit}. */
export interface LimitOptions {
  readonly concurrency: number;
  /** clearQueue() rejects the dropped calls with an AbortError instead of leaving them pending. */
  readonly rejectOnClear?: boolean;
}

const UNBOUNDED = Number.MAX_SAFE_INTEGER;

function checkConcurrency(value: unknown): number {
  if (typeof value !== "number") throw new InvalidArgTypeError("concurrency", "of type number", value);
  if (value === Infinity) return UNBOUNDED;
  // p-limit throws a TypeError for every bad concurrency; so does the drop-in
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgTypeError("concurrency", "an integer >= 1, or Infinity", value);
  return value;
}

class Limiter extends Primitive {
  constructor(concurrency: number, above: Function) {
    super("limiter", concurrency, undefined, above);
  }
}

/**
 * Limits how many promise-returning functions run at once.
 *
 * @example
 * ```ts
 * import pLimit from "asyncdoctor/compat/p-limit";   // was: from "p-limit"
 * const limit = pLimit(2);
 * const pages = await Promise.all(urls.map((u) => limit(fetchPage, u)));
 * ```
 */
export default function pLimit(options: number | LimitOptions): LimitFunction {
  let concurrency: unknown = options;
  let rejectOnClear = false;
  if (typeof options === "object" && options !== null) {
    concurrency = options.concurrency;
    rejectOnClear = options.rejectOnClear ?? false;
    if (typeof rejectOnClear !== "boolean") throw new InvalidArgTypeError("options.rejectOnClear", "of type boolean", rejectOnClear);
  }
  let shown = concurrency as number;
  const engine = new Limiter(checkConcurrency(concurrency), pLimit);

  // the engine's scoped operation is what the caller awaits: the await graph sees through it
  function run<Args extends unknown[], R>(fn: (...args: Args) => PromiseLike<R> | R, args: Args): Promise<R> {
    if (typeof fn !== "function") return Promise.reject(new InvalidArgTypeError("fn", "a function", fn));
    return engine._scoped({ need: 1, mode: undefined, holder: HolderKind.NewScope, above: limit }, () => fn(...args));
  }

  const limit = (<Args extends unknown[], R>(fn: (...args: Args) => PromiseLike<R> | R, ...args: Args): Promise<R> => run(fn, args)) as LimitFunction;

  Object.defineProperties(limit, {
    activeCount: { get: () => engine._capacity - engine._free },
    pendingCount: { get: () => engine._queue.length },
    clearQueue: {
      value() {
        const reason = new DOMException("This operation was aborted", "AbortError");
        engine._cancelAll(reason, rejectOnClear);
      },
    },
    concurrency: {
      get: () => shown,
      set(value: number) {
        const n = checkConcurrency(value);
        shown = value;
        // as p-limit: new slots are filled in a microtask
        queueMicrotask(() => engine._resize(n - engine._capacity));
      },
    },
    map: {
      async value<T, R>(iterable: Iterable<T>, fn: (value: T, index: number) => PromiseLike<R> | R): Promise<R[]> {
        const promises: Promise<R>[] = [];
        let index = 0;
        try {
          for (const value of iterable) {
            const i = index++;
            promises.push(run(fn, [value, i] as [T, number]));
          }
        } catch (err) {
          for (const p of promises) p.catch(() => {});
          throw err;
        }
        return Promise.all(promises);
      },
    },
  });
  return limit;
}

export { pLimit };

/**
 * Returns `fn` limited to `concurrency` calls at once.
 *
 * @example
 * ```ts
 * const fetchLimited = limitFunction(fetchPage, { concurrency: 3 });
 * await Promise.all(urls.map(fetchLimited));
 * ```
 */
export function limitFunction<Args extends unknown[], R>(
  fn: (...args: Args) => PromiseLike<R> | R,
  options: LimitOptions,
): ((...args: Args) => Promise<R>) & { clearQueue(): void } {
  if (typeof fn !== "function") throw new InvalidArgTypeError("fn", "a function", fn);
  const limit = pLimit(options);
  const limited = (...args: Args): Promise<R> => limit(fn, ...args);
  return Object.assign(limited, { clearQueue: () => limit.clearQueue() });
}
