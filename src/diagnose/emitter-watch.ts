/**
 * Debug mode: which event could settle a stuck await. Listeners added with `on`/`once` and the
 * promises of `events.once()` are recorded with the event, the emitter and where they were
 * added, and each emitter counts the events it emitted while nothing listened for them (the
 * only emits that matter here, and the cheap ones to count: an emit with listeners costs one
 * property read). A stuck await on `once(server, "ready")` can then say "settled by event "ready"
 * of Server, which was emitted once, before the listener was added": the lost-event race.
 */
import events, { EventEmitter } from "node:events";
import { syncBuiltinESMExports } from "node:module";
import type { Site } from "../core/site.js";
import { lastCreatedPromise } from "./promise-tracking.js";
import { captureUserSite } from "./user-site.js";

/** A way an awaited promise could be settled: a listener for one event on one emitter. */
export interface SettleHint {
  readonly event: string;
  /** The emitter's class name ("Server", "Socket", "EventEmitter"). */
  readonly emitterName: string;
  /** Where the listener (or `events.once()`) was added. */
  readonly site: Site | undefined;
  /** How many times the emitter had emitted the event, with nothing listening, before the listener was added. */
  readonly emittedBefore: number;
  /** The listener is still registered (so the event has not been emitted since, for a `once`). */
  readonly stillListening: boolean | undefined;
}

interface HintRecord {
  readonly event: string | symbol;
  readonly emitter: WeakRef<EventEmitter>;
  readonly emitterName: string;
  readonly site: Site | undefined;
  readonly emittedBefore: number;
  /** Weakly: a strong reference to a resolve function would keep its promise resolvable. */
  readonly listener: WeakRef<Function> | undefined;
}

const emitted = new WeakMap<object, Map<string | symbol, number>>();
const hints = new WeakMap<Promise<unknown>, HintRecord[]>();

function count(emitter: object, event: string | symbol): number {
  return emitted.get(emitter)?.get(event) ?? 0;
}

function remember(promise: Promise<unknown>, emitter: EventEmitter, event: string | symbol, listener: Function | undefined, above: Function): void {
  const rec: HintRecord = {
    listener: listener ? new WeakRef(listener) : undefined,
    event,
    emitter: new WeakRef(emitter),
    emitterName: emitter.constructor?.name || "EventEmitter",
    site: captureUserSite(above),
    emittedBefore: count(emitter, event),
  };
  const list = hints.get(promise);
  if (list) list.push(rec);
  else hints.set(promise, [rec]);
}

/** What could settle `promise`, as far as the recorded listeners tell. */
export function settleHints(promise: Promise<unknown>): SettleHint[] {
  return (hints.get(promise) ?? []).map((h) => {
    const emitter = h.emitter.deref();
    const listener = h.listener?.deref();
    const stillListening =
      emitter && listener ? emitter.rawListeners(h.event).some((l) => l === listener || (l as { listener?: unknown }).listener === listener) : undefined;
    return { event: String(h.event), emitterName: h.emitterName, site: h.site, emittedBefore: h.emittedBefore, stillListening };
  });
}

/** A promise's own resolve or reject function: built in, and nameless (cheap checks first). */
function isSettleFunction(fn: unknown): boolean {
  return typeof fn === "function" && fn.name === "" && fn.length === 1 && Function.prototype.toString.call(fn).includes("[native code]");
}

let uninstall: (() => void) | undefined;

/**
 * Starts recording listeners and emits (debug mode does it). Returns a function that stops.
 *
 * @example
 * ```ts
 * const stop = watchEmitters();
 * ```
 */
export function watchEmitters(): () => void {
  if (uninstall) return uninstall;
  const proto = EventEmitter.prototype;
  const { emit, once, on, addListener } = proto;
  const eventsOnce = events.once;
  // `new Promise((resolve) => emitter.once("ready", resolve))`: the listener is the promise's own
  // resolve (or reject) function, and V8 announced that promise just before running its executor,
  // so it is the last one created. Only such listeners are recorded: for any other listener the
  // promise it settles is not known, and a wrong hint would mislead.
  const inExecutor = (self: EventEmitter, event: string | symbol, listener: unknown, above: Function) => {
    if (!isSettleFunction(listener)) return;
    const p = lastCreatedPromise();
    if (p) remember(p, self, event, listener as Function, above);
  };
  const countUnheard = (self: EventEmitter, event: string | symbol) => {
    let m = emitted.get(self);
    if (!m) {
      const fresh = new Map<string | symbol, number>();
      emitted.set(self, (m = fresh));
    }
    m.set(event, (m.get(event) ?? 0) + 1);
  };
  proto.emit = function emitCounted(this: EventEmitter, event: string | symbol, a?: unknown, b?: unknown): boolean {
    // only an emit nobody listens to is counted: that is the one a later listener misses
    const listeners = (this as unknown as { _events?: Record<string | symbol, unknown> })._events;
    if (listeners === undefined || listeners[event] === undefined) countUnheard(this, event);
    // the common arities forwarded directly: no arguments object or rest array per emit
    switch (arguments.length) {
      case 1:
        return emit.call(this, event);
      case 2:
        return emit.call(this, event, a);
      case 3:
        return emit.call(this, event, a, b);
      default:
        // eslint-disable-next-line prefer-rest-params -- forwards the call unchanged
        return Reflect.apply(emit, this, arguments) as boolean;
    }
  };
  proto.once = function onceRecorded(this: EventEmitter, event: string | symbol, listener: (...args: unknown[]) => void) {
    inExecutor(this, event, listener, onceRecorded);
    return once.call(this, event, listener);
  };
  proto.on = proto.addListener = function onRecorded(this: EventEmitter, event: string | symbol, listener: (...args: unknown[]) => void) {
    inExecutor(this, event, listener, onRecorded);
    return on.call(this, event, listener);
  };
  const patchedOnce = function eventsOnceRecorded(emitter: unknown, name: string | symbol, options?: unknown): Promise<unknown[]> {
    const p = (eventsOnce as (e: unknown, n: string | symbol, o?: unknown) => Promise<unknown[]>)(emitter, name, options);
    if (emitter instanceof EventEmitter) remember(p, emitter as EventEmitter, name, undefined, eventsOnceRecorded);
    return p;
  } as typeof events.once;
  events.once = patchedOnce;
  syncBuiltinESMExports();
  uninstall = () => {
    proto.emit = emit;
    proto.once = once;
    proto.on = on;
    proto.addListener = addListener;
    events.once = eventsOnce;
    syncBuiltinESMExports();
    uninstall = undefined;
  };
  return uninstall;
}
