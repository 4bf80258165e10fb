/**
 * generic-pool, instrumented at load (debug mode). Each pool `createPool()` (or `new Pool()`)
 * makes gets an asyncdoctor `Semaphore(max)` in front of it, named after the variable it is
 * assigned to: `acquire()` waits there first (FIFO, as generic-pool's default queue is), then
 * takes generic-pool's resource, which is then ready; `use(fn)` holds in a scope of its own, so a
 * holder that asks its own pool again while every resource is held that way is reported on the
 * user's pool. `acquireTimeoutMillis`, `maxWaitingClients`, draining, `release()`/`destroy()`
 * and their errors are generic-pool's own. A pool with priorities (`priorityRange` above 1) is
 * left as it is: a FIFO gate cannot model them.
 */
import { forward, noteBlocked, OpNode, setNode } from "../core/await-graph.js";
import Module from "node:module";
import { dirname, join } from "node:path";
import { TimeoutError as AdTimeoutError } from "../core/errors.js";
import { processWide } from "../core/process-wide.js";
import type { Lease } from "../sync/lease.js";
import { Semaphore } from "../sync/semaphore.js";
import { isInstrumenting } from "./hooks.js";
import type { Instrumentation, LoadedBy } from "./library.js";
import { constructionName } from "./naming.js";
import { patchExportsAndDefault, standInFor } from "./library.js";

const MODULE = "generic-pool";
type Fn = (...args: unknown[]) => unknown;

interface GenericPool {
  acquire(priority?: number): Promise<unknown>;
  release(resource: unknown): Promise<void>;
  destroy(resource: unknown): Promise<void>;
  use(fn: (resource: unknown) => Promise<unknown>, priority?: number): Promise<unknown>;
  readonly max: number;
  readonly pending: number;
  _draining?: boolean;
  _config?: { acquireTimeoutMillis?: number | null; maxWaitingClients?: number; priorityRange?: number };
}

const state = processWide("instrumentGenericPool", () => ({
  standIns: new WeakMap<object, object>(),
  isStandIn: new WeakSet<object>(),
  instrumented: new WeakSet<object>(),
}));

/** generic-pool's own TimeoutError class, from the copy the pool belongs to, when it can be found. */
function timeoutErrorClass(pool: object): (new (message: string) => Error) | undefined {
  const PoolClass = (pool as { constructor?: unknown }).constructor;
  const cache = (Module as unknown as { _cache?: Record<string, { exports?: unknown } | undefined> })._cache ?? {};
  for (const [file, entry] of Object.entries(cache)) {
    if (entry?.exports !== PoolClass) continue;
    const errors = cache[join(dirname(file), "errors.js")]?.exports as { TimeoutError?: unknown } | undefined;
    if (typeof errors?.TimeoutError === "function") return errors.TimeoutError as new (message: string) => Error;
  }
  return undefined;
}

function instrumentPool(pool: GenericPool, name: string): void {
  if (state.instrumented.has(pool)) return;
  const config = pool._config ?? {};
  if ((config.priorityRange ?? 1) > 1 || !Number.isInteger(pool.max) || pool.max < 1) return;
  state.instrumented.add(pool);
  const proto = Object.getPrototypeOf(pool) as Record<string, Fn>;
  const call = <T>(method: string, ...args: unknown[]): T => proto[method]!.apply(pool, args) as T;
  const shadow = new Semaphore(pool.max, { name });
  const leases = new Map<unknown, Lease>();
  const timeout = typeof config.acquireTimeoutMillis === "number" && config.acquireTimeoutMillis > 0 ? config.acquireTimeoutMillis : undefined;
  const Timeout = timeoutErrorClass(pool);
  // generic-pool's error for a wait past acquireTimeoutMillis, with ours (naming the holders) as its cause
  const asTheirs = (err: unknown): never => {
    if (!(err instanceof AdTimeoutError)) throw err;
    const e = Timeout ? new Timeout("ResourceRequest timed out") : Object.assign(new Error("ResourceRequest timed out"), { name: "TimeoutError" });
    (e as { cause?: unknown }).cause = err;
    throw e;
  };
  const refuse = (): Promise<never> | undefined => {
    // draining, or a full waiting list: generic-pool's own rejections
    if (pool._draining === true) return call("acquire");
    const maxWaiting = config.maxWaitingClients;
    if (maxWaiting !== undefined && shadow.available === 0 && shadow.waiting >= maxWaiting)
      return Promise.reject(new Error("max waitingClients count exceeded"));
    return undefined;
  };
  const overrides: Record<string, Fn> = {
    acquire(priority?: unknown): Promise<unknown> {
      if (!isInstrumenting(MODULE)) return call("acquire", priority);
      const refused = refuse();
      if (refused !== undefined) return refused;
      const now = shadow.tryAcquire();
      const granted = now !== undefined ? Promise.resolve(now) : shadow.acquire(timeout === undefined ? undefined : { timeout }).catch(asTheirs);
      return granted.then((lease) =>
        call<Promise<unknown>>("acquire", priority).then(
          (resource) => {
            leases.set(resource, lease);
            return resource;
          },
          (err: unknown) => {
            lease.release();
            throw err;
          },
        ),
      );
    },
    release(resource: unknown): Promise<void> {
      const r = call<Promise<void>>("release", resource);
      const lease = leases.get(resource);
      if (lease !== undefined) {
        leases.delete(resource);
        lease.release();
      }
      return r;
    },
    destroy(resource: unknown): Promise<void> {
      const r = call<Promise<void>>("destroy", resource);
      const lease = leases.get(resource);
      if (lease !== undefined) {
        leases.delete(resource);
        lease.release();
      }
      return r;
    },
    use(fn: unknown, priority?: unknown): Promise<unknown> {
      if (!isInstrumenting(MODULE)) return call("use", fn, priority);
      const refused = refuse();
      if (refused !== undefined) return refused;
      // held in a scope of its own: what fn asks of this pool is watched; the body's promise
      // waits for fn's (the await graph), which starts once generic-pool hands the resource over
      const node = new OpNode(undefined);
      const op = shadow.runExclusive(
        () => {
          const p = call<Promise<unknown>>("acquire", priority).then((resource) => {
            const r = (fn as (r: unknown) => Promise<unknown>)(resource);
            node.on = r;
            noteBlocked(r);
            return r.then(
              (result) => {
                void call("release", resource);
                return result;
              },
              (err: unknown) => {
                void call("destroy", resource);
                throw err;
              },
            );
          });
          setNode(p, node);
          return p;
        },
        timeout === undefined ? undefined : { timeout },
      );
      const out = op.catch((err: unknown) => asTheirs(err));
      forward(out, op);
      return out;
    },
  };
  for (const [key, fn] of Object.entries(overrides)) Object.defineProperty(pool, key, { value: fn, configurable: true, writable: true, enumerable: false });
  const pendingGetter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(pool) as object, "pending")?.get;
  if (pendingGetter !== undefined) {
    // waiting in front of generic-pool counts as pending, as it would in its own queue
    Object.defineProperty(pool, "pending", { get: () => (pendingGetter.call(pool) as number) + shadow.waiting, configurable: true, enumerable: false });
  }
}

function standInCreatePool(createPool: Fn): Fn {
  return standInFor(state, createPool, {
    apply: function apply(target, thisArg, args: unknown[]) {
      const pool = Reflect.apply(target, thisArg, args) as GenericPool;
      if (isInstrumenting(MODULE) && pool !== null && typeof pool === "object") instrumentPool(pool, constructionName(apply, "generic pool").name);
      return pool;
    },
  });
}

function standInPoolClass(Klass: Fn): object {
  return standInFor(state, Klass, {
    construct: function construct(target, args, newTarget) {
      const pool = Reflect.construct(target, args, newTarget) as GenericPool;
      if (isInstrumenting(MODULE)) instrumentPool(pool, constructionName(construct, "generic pool").name);
      return pool;
    },
  });
}

function patchHolder(holder: Record<string, unknown>): void {
  if (typeof holder.createPool === "function" && !state.isStandIn.has(holder.createPool)) holder.createPool = standInCreatePool(holder.createPool as Fn);
  if (typeof holder.Pool === "function" && !state.isStandIn.has(holder.Pool)) holder.Pool = standInPoolClass(holder.Pool as Fn);
}

/** generic-pool's instrumentation. */
export const genericPoolInstrumentation: Instrumentation = {
  module: MODULE,
  esmExports: ["createPool", "Pool"],
  esmDefault: true,
  patch(exports: Record<string, unknown>, by: LoadedBy): undefined {
    patchExportsAndDefault(exports, by, patchHolder);
    return undefined;
  },
};
