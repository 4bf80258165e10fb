/**
 * async-lock, instrumented at load (debug mode). Each `new AsyncLock()` gets, per key, an
 * asyncdoctor `Mutex` in front of it, named after the variable and the key
 * (`locks (src/app.ts:3) key "user-1"`): `acquire(key, fn)` waits there first (FIFO, as
 * async-lock's queue is), then runs through async-lock, which is then free, and holds in a
 * scope of its own. A holder that asks for a key it holds, or two keys taken in opposite
 * orders, is then reported on the user's lock. Results, errors, callbacks, `isBusy()`, its
 * queue timeout and `maxPending` errors are async-lock's own. Passed straight through, unwatched:
 * `skipQueue`, `maxOccupationTime`, `maxExecutionTime` and domain-reentrant locks, which a
 * FIFO gate cannot model.
 */
import { forward, noteBlocked, OpNode, setNode } from "../core/await-graph.js";
import { TimeoutError as AdTimeoutError } from "../core/errors.js";
import { processWide } from "../core/process-wide.js";
import { Mutex } from "../sync/mutex.js";
import { isInstrumenting } from "./hooks.js";
import type { Instrumentation, LoadedBy } from "./library.js";
import { constructionName } from "./naming.js";
import { standInFor } from "./library.js";

const MODULE = "async-lock";
type Fn = (...args: unknown[]) => unknown;
type Callback = (err: unknown, ret?: unknown) => void;

interface AsyncLockLike {
  Promise: PromiseConstructor;
  timeout?: number;
  maxPending?: number;
  maxOccupationTime?: number;
  maxExecutionTime?: number;
  domainReentrant?: boolean;
}
interface CallOptions {
  timeout?: number;
  maxPending?: number;
  skipQueue?: boolean;
  maxOccupationTime?: number;
  maxExecutionTime?: number;
}

const state = processWide("instrumentAsyncLock", () => ({ standIns: new WeakMap<object, object>(), isStandIn: new WeakSet<object>() }));

function instrumentLock(lock: AsyncLockLike & Record<string, unknown>, name: string): void {
  if (lock.domainReentrant) return;
  const proto = Object.getPrototypeOf(lock) as Record<string, Fn>;
  const original = proto.acquire!;
  const isBusy = proto.isBusy!;
  // one gate per key while it is in use; an idle key's gate is dropped, as async-lock drops its queue
  const gates = new Map<unknown, Mutex>();
  const gateOf = (key: unknown): Mutex => {
    let g = gates.get(key);
    if (g === undefined) {
      g = new Mutex({ name: `${name} key ${JSON.stringify(key) ?? String(key)}` });
      gates.set(key, g);
    }
    return g;
  };
  const dropIfIdle = (key: unknown, g: Mutex): void => {
    if (!g.isLocked && g.waiting === 0 && gates.get(key) === g) gates.delete(key);
  };

  const acquire = function (this: unknown, key: unknown, fn: unknown, cb?: unknown, opts?: unknown): unknown {
    // a batch of keys comes back here one key at a time, in async-lock's order
    if (!isInstrumenting(MODULE) || Array.isArray(key) || typeof fn !== "function") return original.call(lock, key, fn, cb, opts);
    const callback = typeof cb === "function" ? (cb as Callback) : undefined;
    const options = ((callback ? opts : cb) ?? {}) as CallOptions;
    if (options.skipQueue || options.maxOccupationTime || options.maxExecutionTime || lock.maxOccupationTime || lock.maxExecutionTime) {
      return original.call(lock, key, fn, cb, opts);
    }
    const gate = gateOf(key);
    const maxPending = options.maxPending || lock.maxPending;
    if (gate.isLocked && maxPending !== undefined && gate.waiting >= maxPending) {
      const err = new Error(`Too many pending tasks in queue ${String(key)}`);
      if (callback) return void callback(err);
      return lock.Promise.reject(err);
    }
    const timeout = options.timeout || lock.timeout;
    // the body's promise waits for what fn returns (the await graph), once async-lock starts it;
    // the wrapper keeps fn's length, which async-lock reads to tell a callback fn from a promise one
    const node = new OpNode(undefined);
    const watched = Object.defineProperty(
      function (this: unknown, ...a: unknown[]): unknown {
        const r = (fn as (...x: unknown[]) => unknown).apply(this, a);
        if (typeof (r as { then?: unknown } | null)?.then === "function") {
          node.on = r;
          noteBlocked(r);
        }
        return r;
      },
      "length",
      { value: (fn as Fn).length },
    );
    const op = gate.runExclusive(
      () => {
        const p = new Promise<unknown>((resolve, reject) => {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the library's own error, passed on as it came
          original.call(lock, key, watched, (err: unknown, ret: unknown) => (err ? reject(err) : resolve(ret)), opts ?? (callback ? undefined : cb));
        });
        setNode(p, node);
        return p;
      },
      timeout ? { timeout } : undefined,
    );
    const run = op
      .catch((err: unknown) => {
        // async-lock's own error for a wait past its timeout
        throw err instanceof AdTimeoutError ? new Error(`async-lock timed out in queue ${String(key)}`) : err;
      })
      .finally(() => dropIfIdle(key, gate));
    if (callback) {
      run.then(
        (ret) => callback(undefined, ret),
        (err: unknown) => callback(err),
      );
      return undefined;
    }
    forward(run, op);
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- async-lock's own Promise constructor (lock.Promise) takes an executor like the native one
    const out = new lock.Promise((resolve, reject) => run.then(resolve, reject));
    forward(out, run);
    return out;
  };
  Object.defineProperty(lock, "acquire", { value: acquire, configurable: true, writable: true, enumerable: false });
  Object.defineProperty(lock, "isBusy", {
    value: function (this: unknown, key?: unknown): boolean {
      if (isBusy.call(lock, key) === true) return true;
      if (key) return gates.get(key)?.isLocked === true;
      for (const g of gates.values()) if (g.isLocked || g.waiting > 0) return true;
      return false;
    },
    configurable: true,
    writable: true,
    enumerable: false,
  });
}

function standInClass(Klass: Fn): object {
  return standInFor(state, Klass, {
    construct: function construct(target, args, newTarget) {
      const lock = Reflect.construct(target, args, newTarget) as AsyncLockLike & Record<string, unknown>;
      if (isInstrumenting(MODULE)) instrumentLock(lock, constructionName(construct, "async-lock").name);
      return lock;
    },
  });
}

/** async-lock's instrumentation (its exports are the class itself). */
export const asyncLockInstrumentation: Instrumentation = {
  module: MODULE,
  esmExports: [],
  esmDefault: true,
  patch(exports: Record<string, unknown>, by: LoadedBy): unknown {
    if (by === "require") return typeof exports === "function" && !state.isStandIn.has(exports) ? standInClass(exports) : undefined;
    const f = exports.default;
    if (typeof f === "function" && !state.isStandIn.has(f)) exports.default = standInClass(f as Fn);
    return undefined;
  },
};
