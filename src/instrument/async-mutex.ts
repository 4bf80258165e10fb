/**
 * async-mutex, instrumented at load (debug mode). Each `Mutex` and `Semaphore` constructed gets
 * an asyncdoctor Mutex or Semaphore in front of it, named after the variable it is assigned to:
 * an acquire waits there first (FIFO, as async-mutex), then takes async-mutex's own lock, which
 * is then free. `runExclusive` holds in a scope of its own, so a holder that asks its own lock
 * again, two locks taken in opposite orders, or a semaphore whose every permit is held by tasks
 * asking it again are reported on the user's lock. `withTimeout` wrappers give up their place
 * in the queue when they time out, as they do in async-mutex.
 *
 * What async-mutex does that a FIFO gate cannot model passes straight to async-mutex, unwatched:
 * a non-zero priority, a weight that is not a whole number or exceeds the semaphore's value,
 * `setValue()`, a `release()` with no acquire before it, and semaphores made with a value below 1.
 *
 * A `waitForUnlock()` still parked when the event loop drains, on a lock held by a bare
 * `acquire()` of the very async call that waits (async-mutex#88: `Promise.all([m.acquire(),
 * m.waitForUnlock()])`), is a re-entrant wait: reported as proven and rejected with a
 * DeadlockError, as sync/drain.ts does for a queued acquire.
 */
import { currentActivation, forward, noteBlocked, OpNode, setNode } from "../core/await-graph.js";
import type { Activation } from "../core/await-graph.js";
import { report } from "../core/diagnosis.js";
import { DeadlockError } from "../core/errors.js";
import { captureSite } from "../core/site.js";
import type { Site } from "../core/site.js";
import { bareReentrantDiagnosis, noteDrainAction, selfRequestedHold } from "../sync/drain.js";
import { markCancelOnly } from "../sync/primitive.js";
import { processWide } from "../core/process-wide.js";
import type { Lease } from "../sync/lease.js";
import { Mutex as AdMutex } from "../sync/mutex.js";
import { Semaphore as AdSemaphore } from "../sync/semaphore.js";
import { isInstrumenting } from "./hooks.js";
import type { Instrumentation, LoadedBy } from "./library.js";
import { constructionName } from "./naming.js";
import { standInFor } from "./library.js";

const MODULE = "async-mutex";

type Releaser = () => void;
type Ticket = Releaser | [number, Releaser];
type Fn = (...args: unknown[]) => unknown;

/** A `waitForUnlock()` parked in front of async-mutex while the gate's queue is not empty. */
interface UnlockWait {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  /** The async call that asked (debug mode), and where. */
  readonly activation: Activation | undefined;
  readonly site: Site | undefined;
}

/** What every instrumented instance keeps. */
interface Gate {
  readonly shadow: AdMutex | AdSemaphore;
  readonly isSemaphore: boolean;
  /** Waiters queued in front of async-mutex, for cancel(). */
  readonly queued: Set<AbortController>;
  /** Leases of bare acquires, oldest first, for a release() without the releaser. */
  readonly bare: Lease[];
  /** Set while one of our releasers calls async-mutex's (whose releaser calls `release()`). */
  releasing: Lease | typeof ENDED | undefined;
  /** Set while a scoped runExclusive gives async-mutex's permits back (its scope releases ours). */
  internal: boolean;
  /** True once the gate cannot follow async-mutex any more: everything passes straight through. */
  direct: boolean;
  readonly unlockWaiters: UnlockWait[];
  /** The acquire with an added time limit, for withTimeout. */
  acquireWithin(timeout: number, weightOrPriority?: unknown, priority?: unknown): Promise<Ticket>;
}

interface State {
  readonly exports: WeakMap<object, Record<string, unknown>>;
  readonly standIns: WeakMap<object, object>;
  readonly isStandIn: WeakSet<object>;
  readonly gates: WeakMap<object, Gate>;
  /** Gates with parked unlock waits, for the drain check. */
  readonly parked: Set<Gate>;
  drainWatched: boolean;
}

const state = processWide<State>("instrumentAsyncMutex", () => ({
  exports: new WeakMap(),
  standIns: new WeakMap(),
  isStandIn: new WeakSet(),
  gates: new WeakMap(),
  parked: new Set(),
  drainWatched: false,
}));

// marks a releaser whose hold a release() by hand had ended already
const ENDED: unique symbol = Symbol("asyncdoctor.async-mutex.ended");

// the reason our cancel() aborts a queued waiter with: it then rejects with async-mutex's cancel error
const CANCELLED: unique symbol = Symbol("asyncdoctor.async-mutex.cancelled");

function isWholeWeight(w: unknown): w is number {
  return typeof w === "number" && Number.isInteger(w) && w >= 1;
}

function wakeUnlockWaiters(gate: Gate): void {
  if (gate.queued.size !== 0) return;
  const waiters = gate.unlockWaiters.splice(0);
  state.parked.delete(gate);
  for (const w of waiters) w.resolve();
}

/**
 * At the drain: a parked unlock wait whose own async call holds the lock (a bare acquire, not
 * finished) can never end. Reported and rejected; runs before the exit report.
 */
function onDrain(): void {
  for (const gate of [...state.parked]) {
    if (gate.direct) continue;
    for (const w of [...gate.unlockWaiters]) {
      const self = selfRequestedHold(w, gate.shadow._holds);
      if (self === undefined) continue;
      const d = bareReentrantDiagnosis(gate.shadow, self.hold, w.site, "waits for it to be unlocked (waitForUnlock)", "it can never be unlocked", self.awaited);
      gate.unlockWaiters.splice(gate.unlockWaiters.indexOf(w), 1);
      if (gate.unlockWaiters.length === 0) state.parked.delete(gate);
      noteDrainAction();
      report(d, { thrown: true });
      w.reject(new DeadlockError("reentrant", d));
      // one rejection: the program runs on, and what is left is judged at the next drain
      return;
    }
  }
}

function parkUnlockWait(gate: Gate, site: Site | undefined): Promise<void> {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  gate.unlockWaiters.push({ promise, resolve, reject, activation: currentActivation(), site });
  state.parked.add(gate);
  if (!state.drainWatched) {
    state.drainWatched = true;
    // before the exit report, which then waits for what this check sets going
    process.prependListener("beforeExit", onDrain);
  }
  return promise;
}

function instrumentInstance(instance: Record<string, unknown>, isSemaphore: boolean, name: string, cancelErrorDefault: unknown): void {
  const proto = Object.getPrototypeOf(instance) as Record<string, Fn>;
  const call = (method: string, ...args: unknown[]): unknown => proto[method]!.apply(instance, args);
  const value = isSemaphore ? (call("getValue") as number) : 1;
  if (!isWholeWeight(value)) return;
  const shadow = isSemaphore ? new AdSemaphore(value, { name }) : new AdMutex({ name });
  const cancelError = (): unknown => {
    const inner = (isSemaphore ? instance : (instance._semaphore as Record<string, unknown> | undefined)) ?? {};
    return (inner as { _cancelError?: unknown })._cancelError ?? cancelErrorDefault;
  };

  const gate: Gate = {
    shadow,
    isSemaphore,
    queued: new Set(),
    bare: [],
    releasing: undefined,
    internal: false,
    direct: false,
    unlockWaiters: [],
    acquireWithin: (timeout, a, b) => gatedAcquire(a, b, timeout),
  };

  /** The weight and priority of a call, or undefined when the gate cannot model it. */
  const modelled = (a: unknown, b: unknown): number | undefined => {
    if (gate.direct || !isInstrumenting(MODULE)) return undefined;
    const weight = isSemaphore ? (a ?? 1) : 1;
    const priority = isSemaphore ? (b ?? 0) : (a ?? 0);
    if (priority !== 0 || !isWholeWeight(weight) || weight > shadow_capacity()) return undefined;
    return weight;
  };
  const shadow_capacity = (): number => (shadow instanceof AdSemaphore ? shadow.permits : 1);

  const wrapTicket = (ticket: Ticket, lease: Lease): Ticket => {
    const original: Releaser = Array.isArray(ticket) ? ticket[1] : ticket;
    let done = false;
    const releaser: Releaser = () => {
      if (done) return;
      done = true;
      const i = gate.bare.indexOf(lease);
      if (i === -1) {
        // a release() by hand ended this hold already: async-mutex now counts a permit more than
        // it was made with, which the gate's fixed permits cannot follow
        gate.releasing = ENDED;
        original();
        gate.releasing = undefined;
        gate.direct = true;
        wakeUnlockWaiters(gate);
        return;
      }
      gate.bare.splice(i, 1);
      gate.releasing = lease;
      original();
      // a mutex's releaser does not go through release(): give the permit back here
      if (gate.releasing === lease) {
        gate.releasing = undefined;
        lease.release();
      }
      wakeUnlockWaiters(gate);
    };
    return Array.isArray(ticket) ? [ticket[0], releaser] : releaser;
  };

  const waitInFront = async (weight: number, timeout: number | undefined): Promise<Lease> => {
    const controller = new AbortController();
    gate.queued.add(controller);
    try {
      const opts = { signal: controller.signal, ...(timeout === undefined ? {} : { timeout }), ...(isSemaphore ? { permits: weight } : {}) };
      return await shadow.acquire(opts);
    } catch (err) {
      if (controller.signal.reason === CANCELLED) throw cancelError();
      throw err;
    } finally {
      gate.queued.delete(controller);
    }
  };

  const gatedAcquire = async (a: unknown, b: unknown, timeout?: number): Promise<Ticket> => {
    const weight = modelled(a, b);
    if (weight === undefined) return call("acquire", ...(a === undefined ? [] : b === undefined ? [a] : [a, b])) as Promise<Ticket>;
    const lease = shadow.tryAcquire(weight) ?? (await waitInFront(weight, timeout));
    let ticket: Ticket;
    try {
      ticket = (await call("acquire", ...(isSemaphore ? [weight] : []))) as Ticket;
    } catch (err) {
      lease.release();
      throw err;
    }
    gate.bare.push(lease);
    return wrapTicket(ticket, lease);
  };

  const overrides: Record<string, Fn> = {
    acquire(a?: unknown, b?: unknown): Promise<Ticket> {
      // async-mutex throws synchronously on a weight <= 0: keep that
      if (isSemaphore && typeof a === "number" && a <= 0) return call("acquire", a, b) as Promise<Ticket>;
      // the lock is free: take both now, in this tick, as async-mutex grants a free lock at once
      const weight = modelled(a, b);
      if (weight !== undefined && gate.queued.size === 0) {
        const lease = shadow.tryAcquire(weight);
        if (lease !== undefined) {
          const p = call("acquire", ...(isSemaphore ? [weight] : [])) as Promise<Ticket>;
          return p.then(
            (ticket) => {
              gate.bare.push(lease);
              return wrapTicket(ticket, lease);
            },
            (err: unknown) => {
              lease.release();
              throw err;
            },
          );
        }
      }
      return gatedAcquire(a, b);
    },
    runExclusive(callback: unknown, a?: unknown, b?: unknown): Promise<unknown> {
      const weight = modelled(a, b);
      if (weight === undefined || typeof callback !== "function") return call("runExclusive", callback, ...(a === undefined ? [] : [a, b])) as Promise<unknown>;
      const controller = new AbortController();
      gate.queued.add(controller);
      let entered = false;
      // what the body's promise waits for once it runs the user's callback (the await graph)
      const node = new OpNode(undefined);
      const body = async (): Promise<unknown> => {
        entered = true;
        gate.queued.delete(controller);
        const ticket = (await call("acquire", ...(isSemaphore ? [weight] : []))) as Ticket;
        const [v, release] = Array.isArray(ticket) ? ticket : [undefined, ticket];
        try {
          const r = isSemaphore ? (callback as Fn)(v) : (callback as Fn)();
          node.on = r;
          noteBlocked(r);
          return await r;
        } finally {
          // async-mutex's releaser calls release(weight): that call is ours, not the user's
          gate.internal = true;
          try {
            release();
          } finally {
            gate.internal = false;
          }
        }
      };
      // the signal is cancel()'s, not a time limit: a knot through this lock can be proven
      const opts = { signal: markCancelOnly(controller.signal), ...(isSemaphore ? { permits: weight } : {}) };
      const op = shadow.runExclusive(() => {
        const p = body();
        setNode(p, node);
        return p;
      }, opts);
      const out = op.then(
        (v) => {
          wakeUnlockWaiters(gate);
          return v;
        },
        (err: unknown) => {
          gate.queued.delete(controller);
          wakeUnlockWaiters(gate);
          if (!entered && controller.signal.reason === CANCELLED) throw cancelError();
          throw err;
        },
      );
      forward(out, op);
      return out;
    },
    release(a?: unknown): void {
      if (!isSemaphore) {
        // async-mutex's mutex.release() frees the lock whoever holds it: the oldest bare hold ends
        const locked = call("isLocked") as boolean;
        call("release");
        if (locked) {
          const lease = gate.bare.shift();
          if (lease) lease.release();
          else gate.direct = true;
        }
        wakeUnlockWaiters(gate);
        return;
      }
      const weight = a ?? 1;
      call("release", ...(a === undefined ? [] : [a]));
      if (gate.internal || gate.releasing === ENDED) return;
      const lease = gate.releasing;
      if (lease !== undefined) {
        gate.releasing = undefined;
        lease.release();
        return;
      }
      // a release(weight) by hand: it ends the oldest bare hold of that weight, if any
      const i = gate.bare.findIndex((l) => l.permits === weight);
      if (i === -1) gate.direct = true;
      else gate.bare.splice(i, 1)[0]!.release();
      wakeUnlockWaiters(gate);
    },
    cancel(): unknown {
      for (const c of [...gate.queued]) {
        gate.queued.delete(c);
        c.abort(CANCELLED);
      }
      const r = call("cancel");
      wakeUnlockWaiters(gate);
      return r;
    },
    isLocked(): boolean {
      return (call("isLocked") as boolean) || (!gate.direct && (shadow instanceof AdSemaphore ? shadow.available <= 0 : shadow.isLocked));
    },
    waitForUnlock: function waitForUnlock(a?: unknown, b?: unknown): Promise<void> {
      const args = a === undefined ? [] : b === undefined ? [a] : [a, b];
      // async-mutex resolves it only once its queue is empty; the queue is in front of it now.
      // A held mutex waits here too (every release wakes it), so the drain can judge the wait.
      const held = !isSemaphore && shadow instanceof AdMutex && shadow.isLocked;
      if (gate.direct || (gate.queued.size === 0 && !held)) return call("waitForUnlock", ...args) as Promise<void>;
      const parked = parkUnlockWait(gate, captureSite(waitForUnlock));
      const out = parked.then(() => call("waitForUnlock", ...args) as Promise<void>);
      // the await graph: awaiting `out` waits for the parked wait
      forward(out, parked);
      return out;
    },
  };
  if (isSemaphore) {
    overrides.setValue = (v: unknown): unknown => {
      // a new value the gate's fixed permits cannot follow: async-mutex limits alone from now on
      gate.direct = true;
      return call("setValue", v);
    };
  }
  for (const [key, fn] of Object.entries(overrides)) {
    Object.defineProperty(instance, key, { value: fn, configurable: true, writable: true, enumerable: false });
  }
  state.gates.set(instance, gate);
}

function standInClass(Klass: Fn, isSemaphore: boolean, cancelErrorDefault: unknown): object {
  return standInFor(state, Klass, {
    construct: function construct(target, args, newTarget) {
      const instance = Reflect.construct(target, args, newTarget) as Record<string, unknown>;
      if (isInstrumenting(MODULE))
        instrumentInstance(instance, isSemaphore, constructionName(construct, isSemaphore ? "semaphore" : "mutex").name, cancelErrorDefault);
      return instance;
    },
  });
}

type WithTimeout = (sync: Record<string, Fn>, timeout: number, timeoutError?: unknown) => unknown;

/**
 * async-mutex's withTimeout leaves an acquire that timed out waiting, and releases it when it is
 * granted at last. Here the wait is given the same limit, so it leaves the queue when async-mutex's
 * timer fires (that timer was set first, so the caller still gets async-mutex's error).
 */
function standInWithTimeout(original: WithTimeout): WithTimeout {
  const known = state.standIns.get(original);
  if (known !== undefined) return known as WithTimeout;
  const wrapped: WithTimeout = function withTimeout(sync, timeout, timeoutError) {
    const gate = sync !== null && typeof sync === "object" ? state.gates.get(sync) : undefined;
    if (gate === undefined || typeof timeout !== "number" || !(timeout > 0) || !Number.isFinite(timeout)) {
      return original(sync, timeout, ...(timeoutError === undefined ? [] : [timeoutError]));
    }
    const facade: Record<string, Fn> = {
      acquire: (a?: unknown, b?: unknown) => gate.acquireWithin(timeout, a, b),
      runExclusive: (...args: unknown[]) => sync.runExclusive!(...args),
      release: (...args: unknown[]) => sync.release!(...args),
      cancel: () => sync.cancel!(),
      waitForUnlock: (...args: unknown[]) => sync.waitForUnlock!(...args),
      isLocked: () => sync.isLocked!(),
    };
    if (gate.isSemaphore) {
      facade.getValue = () => sync.getValue!();
      facade.setValue = (v: unknown) => sync.setValue!(v);
    }
    return original(facade, timeout, ...(timeoutError === undefined ? [] : [timeoutError]));
  };
  state.standIns.set(original, wrapped);
  state.isStandIn.add(wrapped);
  return wrapped;
}

function instrumentedExports(exports: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(exports)) out[key] = exports[key];
  const canceled = exports.E_CANCELED;
  if (typeof exports.Mutex === "function" && !state.isStandIn.has(exports.Mutex)) out.Mutex = standInClass(exports.Mutex as Fn, false, canceled);
  if (typeof exports.Semaphore === "function" && !state.isStandIn.has(exports.Semaphore)) out.Semaphore = standInClass(exports.Semaphore as Fn, true, canceled);
  if (typeof exports.withTimeout === "function" && !state.isStandIn.has(exports.withTimeout))
    out.withTimeout = standInWithTimeout(exports.withTimeout as WithTimeout);
  return out;
}

/** async-mutex's instrumentation. */
export const asyncMutexInstrumentation: Instrumentation = {
  module: MODULE,
  esmExports: ["Mutex", "Semaphore", "withTimeout"],
  esmDefault: false,
  patch(exports: Record<string, unknown>, by: LoadedBy): unknown {
    if (by === "import") {
      Object.assign(exports, instrumentedExports(exports));
      return undefined;
    }
    // its CommonJS exports are getters that cannot be replaced: hand out a copy instead
    let copy = state.exports.get(exports);
    if (copy === undefined) {
      copy = Object.defineProperty(instrumentedExports(exports), "__esModule", { value: true });
      state.exports.set(exports, copy);
    }
    return copy;
  },
};
