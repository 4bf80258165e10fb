/**
 * The await graph: facts about which async function activation awaits which promise.
 *
 * Debug mode feeds it from two sources. The user's code is compiled at load with a small
 * transform (diagnose/await-transform.ts) that gives every async function call an
 * {@link Activation} and records each `await` on it (`$ad$.a(x)`), with the await's static
 * site. asyncdoctor's own async operations (a `runExclusive`, a queued acquire, `Promise.all`)
 * register nodes for the promises they return. Following `awaiting` edges from a promise gives
 * what its settlement waits on right now; the deadlock proof (sync/wait-graph.ts) asks that of
 * a holder's body, so only what a holder really awaits can make it a party to a deadlock.
 *
 * An edge is recorded only while the graph is on; an unknown promise (I/O, a timer, a
 * promise of code that was not compiled) is taken to be able to settle. Missing facts make a
 * proof fail, never succeed.
 */
import { promiseHooks } from "node:v8";
import { processWide } from "./process-wide.js";

/** Something a promise's settlement can wait on. */
export interface AwaitNode {
  /** Told apart by a field, not instanceof: the ESM and CommonJS builds each have their classes. */
  readonly kind: "activation" | "op" | "group" | "leaf";
  /**
   * Adds to `leaves` what this node waits on and returns true when it is blocked only on
   * leaves (queued waiters); false when it may settle without any of them.
   */
  blockedOn(leaves: Set<object>, depth: number): boolean;
}

/** One entry of a chain of awaiting activations, outermost first. */
export interface ChainLink {
  /** The function's name, or "<anonymous>", or "the module" for top-level awaits. */
  readonly name: string;
  readonly file: string;
  /** Where it awaits now (1-based), else where the function starts. */
  readonly line: number;
  readonly column: number;
}

/** Static facts about one compiled file: its functions and its awaits. */
export interface FileMeta {
  readonly file: string;
  /** [name, line, column] of each async function, by index. */
  readonly fns: readonly (readonly [string, number, number])[];
  /** [line, column] of each await, by index. */
  readonly awaits: readonly (readonly [number, number])[];
  /**
   * [line, column, code, kind, top] of each place whose value the code discards (`f();`, `void f()`,
   * the callback of `forEach`, a listener, a timer), by index: the dropped-promise detector's
   * sites. `top` is 1 at the module's top level (a script's `main();`).
   */
  readonly drops?: readonly (readonly [number, number, string, DropKind, number?])[] | undefined;
}

/**
 * How a value is discarded at a drop site: a call's value thrown away by its statement
 * (`f();`), explicitly (`void f()`), the last link of a `.then/.catch/.finally` chain, or the
 * value a callback returns to code that ignores it (`forEach`, an EventEmitter listener, a timer).
 */
export type DropKind = "statement" | "void" | "chain" | "iterate" | "listener" | "timer";

/**
 * A promise discarded at a drop site (debug mode's dropped-promise detector makes them). It
 * lives on the promise under a registered symbol, so the await graph's promise hook can mark it
 * handled the moment anything reacts to it (an await, a `.then`, `Promise.all`).
 */
export interface DropRecord {
  readonly kind: DropKind;
  readonly meta: FileMeta;
  /** Index in meta.drops. */
  readonly at: number;
  /** Where it was dropped (for a listener: the `emit()` that called it), in the user's code. */
  readonly site: { readonly file: string; readonly line: number; readonly column: number };
  /** The code that dropped it ("this.sender.send()", "arr.forEach()"). */
  readonly code: string;
  /** Something reacted to the promise after it was dropped. */
  handled: boolean;
  /** An unhandled-rejection report named this drop already. */
  reported: boolean;
}

/** What the dropped-promise detector supplies (diagnose/dropped-promises.ts); core only calls it. */
export interface DropHandlers {
  /** A value discarded at drop site `at` of `meta`, by code of activation `by` (undefined: not an async function's own body). */
  dropped(value: unknown, meta: FileMeta, at: number, by: Activation | undefined): void;
  /** An activation that dropped promises has returned (or thrown). */
  returned(act: Activation): void;
  /** `recv.forEach(` / `recv.on(` / `setTimeout(` at drop site `at` is about to be called on `recv`. */
  callee<T>(recv: T, meta: FileMeta, at: number): T;
  /** A callback passed at drop site `at`: the function to pass instead (or `fn` itself). */
  callback<T>(fn: T, meta: FileMeta, at: number, index: number): T;
  /** The call at drop site `at` returned `value`. */
  ended<T>(value: T, meta: FileMeta, at: number): T;
}

const DROP = Symbol.for("asyncdoctor.dropRecord");
type DropCarrier = { [DROP]?: DropRecord };

/**
 * How a report says what dropped the promise: "`this.sender.send()`, whose value its statement
 * throws away", "the emitter, which ignores what the listener registered by `emitter.on()` returns".
 */
export function dropPhrase(r: DropRecord): string {
  switch (r.kind) {
    case "void":
      return `\`void ${r.code}\``;
    case "chain":
      return `the end of a \`${r.code}\` chain, which nothing handles`;
    case "iterate":
      return `\`${r.code}\`, which ignores what its callback returns`;
    case "listener":
      return `the emitter, which ignores what the listener registered by \`${r.code}\` returns`;
    case "timer":
      return `\`${r.code}\`, which ignores what its callback returns`;
    default:
      return `\`${r.code}\`, whose value its statement throws away`;
  }
}

/** The drop record of a promise, if it was dropped at a site debug mode watches. */
export function dropRecordOf(promise: object): DropRecord | undefined {
  return (promise as DropCarrier)[DROP];
}

/** Attaches a drop record to a promise (not enumerable); false when the promise cannot carry one. */
export function setDropRecord(promise: object, record: DropRecord): boolean {
  if (DROP in promise || !Object.isExtensible(promise)) return false;
  Object.defineProperty(promise, DROP, { value: record, writable: true, enumerable: false, configurable: true });
  return true;
}

const MAX_DEPTH = 256;

/**
 * Where a promise keeps its node: a property under a registered symbol (shared by the ESM and
 * CommonJS builds). A WeakMap of every activation's promise made garbage collection the main
 * cost of debug mode (ephemeron tables); a property on the promise costs one shape transition.
 */
const NODE = Symbol.for("asyncdoctor.awaitNode");
type Carrier = { [NODE]?: AwaitNode };

const nodes = {
  get(x: object): AwaitNode | undefined {
    return (x as Carrier)[NODE];
  },
  has(x: object): boolean {
    return (x as Carrier)[NODE] !== undefined;
  },
  set(x: object, node: AwaitNode): void {
    const c = x as Carrier;
    // not enumerable: util.inspect(promise) and spreads do not show it
    if (NODE in c) c[NODE] = node;
    else if (Object.isExtensible(x)) Object.defineProperty(x, NODE, { value: node, writable: true, enumerable: false, configurable: true });
  },
};

interface GraphState {
  on: boolean;
  /** The activation whose code runs now (debug mode), or undefined. */
  current: Activation | undefined;
  lastInit: Promise<unknown> | undefined;
  stopHook: (() => void) | undefined;
  /** Called when an await makes an activation wait on a queued waiter (sync/ decides). */
  onBlocked: ((leaves: Set<object>) => void) | undefined;
  restore: (() => void) | undefined;
  /** The dropped-promise detector, while debug mode has it on. */
  drops: DropHandlers | undefined;
}

const state = processWide<GraphState>("awaitGraph", () => ({
  on: false,
  current: undefined,
  lastInit: undefined,
  stopHook: undefined,
  onBlocked: undefined,
  restore: undefined,
  drops: undefined,
}));

/** An async function call: the promise it returns, and what it awaits now. */
export class Activation implements AwaitNode {
  readonly kind = "activation" as const;
  readonly promise: Promise<unknown> | undefined;
  readonly meta: FileMeta | undefined;
  readonly fn: number;
  /** What it awaits now (or last awaited: a settled target means it runs or has returned). */
  awaiting: unknown = undefined;
  /** Index of that await in meta.awaits. */
  at = -1;
  /** The activation that called this one, until this one first suspends (then it is its caller's turn). */
  caller: Activation | undefined;
  /**
   * The promises its own code dropped (`f();` in its body), for the dropped-promise detector.
   * Declared, not initialised: most activations drop nothing, and each one costs less without it.
   */
  declare drops: unknown[] | undefined;

  constructor(promise: Promise<unknown> | undefined, meta: FileMeta | undefined, fn: number) {
    this.promise = promise;
    this.meta = meta;
    this.fn = fn;
  }

  /** Records `await x` (the transform calls it as `await $ad$.a(x, k)`); returns x. */
  a<T>(x: T, k: number): T {
    this.awaiting = x;
    this.at = k;
    // it suspends now: the code that runs next is its caller's (first time) or the event loop's
    state.current = this.caller;
    this.caller = undefined;
    if (typeof x === "object" && x !== null && state.onBlocked !== undefined && nodes.has(x)) {
      const leaves = new Set<object>();
      if (nodes.get(x)!.blockedOn(leaves, 0) && leaves.size > 0) state.onBlocked(leaves);
    }
    return x;
  }

  blockedOn(leaves: Set<object>, depth: number): boolean {
    return blockedOn(this.awaiting, leaves, depth + 1);
  }

  /** "transfer() at bank.ts:12" (the line where it awaits now, else where it starts), for reports. */
  get name(): string {
    const l = this.link();
    const file = l.file ? ` at ${l.file.split(/[\\/]/).pop()}:${l.line}` : "";
    return `${l.name === "the module" ? "the main module" : l.name === "<anonymous>" ? "an async callback" : `${l.name}()`}${file}`;
  }

  /**
   * It resumes (the transform wraps each await as `$ad$.r(await $ad$.a(x, k))`, and starts each
   * catch and finally block with `$ad$.r()`, so a rejection resumes it too); returns `v`.
   */
  r<T>(v: T): T {
    state.current = this;
    return v;
  }

  /** The call ends (the transform's finally): its caller's code runs on. */
  x(): void {
    if (state.current === this) state.current = this.caller;
    this.caller = undefined;
    if (this.drops !== undefined) state.drops?.returned(this);
  }

  /** Its code discards `v` at drop site `k` (the transform writes `$ad$.d(f(), k)` for `f();`); returns v. */
  d<T>(v: T, k: number): T {
    if (typeof v === "object" && v !== null && state.drops !== undefined) state.drops.dropped(v, this.meta!, k, this);
    return v;
  }

  /** This activation as a chain link. */
  link(): ChainLink {
    const m = this.meta;
    if (m === undefined) return { name: "<unknown>", file: "", line: 0, column: 0 };
    const f = this.fn >= 0 ? m.fns[this.fn] : undefined;
    const aw = this.at >= 0 ? m.awaits[this.at] : undefined;
    return {
      name: f ? f[0] || "<anonymous>" : "the module",
      file: m.file,
      line: aw ? aw[0] : (f?.[1] ?? 1),
      column: aw ? aw[1] : (f?.[2] ?? 1),
    };
  }
}

/** The activation used while the graph is off: records nothing. */
const OFF = new (class extends Activation {
  override a<T>(x: T): T {
    return x;
  }
  override x(): void {}
  override r<T>(v: T): T {
    return v;
  }
  override d<T>(v: T): T {
    return v;
  }
})(undefined, undefined, -1);

/**
 * True when `x`, a promise (or anything awaited), waits only on leaves right now; the leaves
 * are added to `leaves`. Unknown promises and values may settle: false.
 */
export function blockedOn(x: unknown, leaves: Set<object>, depth = 0): boolean {
  if (typeof x !== "object" || x === null || depth > MAX_DEPTH) return false;
  const n = nodes.get(x);
  return n !== undefined && n.blockedOn(leaves, depth);
}

/**
 * The activations that `x` waits through, outermost first (the chain an `await x` waits on),
 * stopping at the first promise that is not an activation's.
 */
export function chainOf(x: unknown): ChainLink[] {
  const out: ChainLink[] = [];
  const seen = new Set<object>();
  for (let at = x; typeof at === "object" && at !== null && !seen.has(at) && out.length < MAX_DEPTH;) {
    seen.add(at);
    const n = nodes.get(at);
    if (n?.kind === "activation") {
      const act = n as Activation;
      out.push(act.link());
      at = act.awaiting;
    } else if (n?.kind === "op") {
      at = (n as OpNode).on;
    } else break;
  }
  return out;
}

/** True when `x`'s current await chain passes through `target`. */
export function awaitsThrough(x: unknown, target: object): boolean {
  const seen = new Set<object>();
  const stack: unknown[] = [x];
  while (stack.length !== 0) {
    const at = stack.pop();
    if (typeof at !== "object" || at === null || seen.has(at) || seen.size > 4 * MAX_DEPTH) continue;
    if (at === target) return true;
    seen.add(at);
    const n = nodes.get(at);
    if (n === undefined) continue;
    if (n === target) return true;
    if (n.kind === "activation") stack.push((n as Activation).awaiting);
    else if (n.kind === "group") stack.push(...(n as GroupNode).members);
    else if (n.kind === "op") stack.push((n as OpNode).on);
  }
  return false;
}

/**
 * One of asyncdoctor's own async operations (a `runExclusive`, an acquire): what it waits on
 * changes as it goes (first the queued waiter, then the body it runs), so sync/ updates `on`.
 */
export class OpNode implements AwaitNode {
  readonly kind = "op" as const;
  on: unknown;
  constructor(on: unknown) {
    this.on = on;
  }
  blockedOn(leaves: Set<object>, depth: number): boolean {
    return blockedOn(this.on, leaves, depth + 1);
  }
}

/**
 * A promise made of others (`Promise.all`, `race`, `allSettled`, `any`): blocked only when
 * every member that could settle it is blocked.
 */
export class GroupNode implements AwaitNode {
  readonly kind = "group" as const;
  readonly members: readonly unknown[];
  /** "race" and "any" settle as soon as one plain value is among the members. */
  readonly settlesOnValue: boolean;
  constructor(members: readonly unknown[], settlesOnValue: boolean) {
    this.members = members;
    this.settlesOnValue = settlesOnValue;
  }
  blockedOn(leaves: Set<object>, depth: number): boolean {
    let any = false;
    for (const m of this.members) {
      if (typeof m !== "object" || m === null) {
        if (this.settlesOnValue) return false;
        continue;
      }
      if (!blockedOn(m, leaves, depth + 1)) return false;
      any = true;
    }
    return any;
  }
}

/** True while the await graph records (debug mode with the transform, or the test helpers). */
export function awaitGraphOn(): boolean {
  return state.on;
}

/** Registers `node` as what `promise` waits on (no-op while the graph is off). */
export function setNode(promise: object, node: AwaitNode): void {
  if (state.on) nodes.set(promise, node);
}

/**
 * Says that `outer` settles only after `inner` does (a library's `.then()`/`.catch()` around one
 * of asyncdoctor's operations, or a body that runs a callback): the await graph sees through it.
 * No-op while the graph is off.
 *
 * @example
 * ```ts
 * const op = shadow.runExclusive(body);
 * const out = op.catch(mapError);
 * forward(out, op); // awaiting `out` waits for `op`
 * ```
 */
export function forward(outer: object, inner: unknown): void {
  if (state.on) nodes.set(outer, new OpNode(inner));
}

/**
 * Runs the deadlock check for what `x` waits on now: for a node whose `on` changed after the
 * awaits around it were made (a library that starts the user's callback a tick later).
 */
export function noteBlocked(x: unknown): void {
  if (!state.on || state.onBlocked === undefined) return;
  const leaves = new Set<object>();
  if (blockedOn(x, leaves) && leaves.size > 0) state.onBlocked(leaves);
}

/** The node registered for a promise, if any. */
export function nodeOf(promise: object): AwaitNode | undefined {
  return nodes.get(promise);
}

/** The dropped-promise detector installs its handlers (undefined removes them). */
export function setDropHandlers(handlers: DropHandlers | undefined): void {
  state.drops = handlers;
}

/** The activations running now: the current one and the callers it has not yet suspended back to. */
export function runningActivations(): Activation[] {
  const out: Activation[] = [];
  for (let a = state.on ? state.current : undefined; a !== undefined && out.length < MAX_DEPTH; a = a.caller) out.push(a);
  return out;
}

/** sync/ installs the check run when an await makes an activation wait on queued waiters. */
export function onAwaitBlocked(check: ((leaves: Set<object>) => void) | undefined): void {
  state.onBlocked = check;
}

function onInit(promise: Promise<unknown>, parent: Promise<unknown> | undefined): void {
  state.lastInit = promise;
  // a reaction to a dropped promise (an await, a .then, Promise.all): someone handles it after all
  if (parent !== undefined && state.drops !== undefined) {
    const r = (parent as DropCarrier)[DROP];
    if (r !== undefined) r.handled = true;
  }
}

/**
 * The async function activation whose code runs now, while the graph records (debug mode with
 * the transform); undefined outside compiled code.
 *
 * @example
 * ```ts
 * const here = currentActivation()?.link(); // { name: "transfer", file: "/app/bank.ts", line: 12, … }
 * ```
 */
export function currentActivation(): Activation | undefined {
  return state.on ? state.current : undefined;
}

/**
 * The transform's entry point, `globalThis.__asyncdoctor$`: `file()` registers a compiled
 * file's static facts, `enter()` starts an activation (its promise is the one V8 created just
 * before the body ran), `module()` is the activation of a module's top-level awaits.
 */
export const transformRuntime = {
  file(file: string, fns: FileMeta["fns"], awaits: FileMeta["awaits"], drops?: FileMeta["drops"]): FileMeta {
    return { file, fns, awaits, drops };
  },
  enter(meta: FileMeta | undefined, fn: number): Activation {
    if (!state.on || meta === undefined) return OFF;
    const p = state.lastInit;
    state.lastInit = undefined;
    const act = new Activation(p, meta, fn);
    if (p !== undefined && !nodes.has(p)) nodes.set(p, act);
    act.caller = state.current;
    state.current = act;
    return act;
  },
  /** A value discarded at drop site `k` of `meta` by code outside every async function's own body. */
  d<T>(v: T, meta: FileMeta | undefined, k: number): T {
    if (typeof v === "object" && v !== null && state.on && meta !== undefined) state.drops?.dropped(v, meta, k, undefined);
    return v;
  },
  /** The receiver (or function) of a call at drop site `k` whose callback's value is ignored. */
  fe<T>(recv: T, meta: FileMeta | undefined, k: number): T {
    return state.on && meta !== undefined && state.drops !== undefined ? state.drops.callee(recv, meta, k) : recv;
  },
  /** A callback passed at drop site `k`. */
  w<T>(fn: T, meta: FileMeta | undefined, k: number, index: number): T {
    return state.on && meta !== undefined && state.drops !== undefined ? state.drops.callback(fn, meta, k, index) : fn;
  },
  /** The call at drop site `k` has returned `v`. */
  ce<T>(v: T, meta: FileMeta | undefined, k: number): T {
    return state.on && meta !== undefined && state.drops !== undefined ? state.drops.ended(v, meta, k) : v;
  },
  module(meta: FileMeta | undefined): Activation {
    if (!state.on || meta === undefined) return OFF;
    const act = new Activation(undefined, meta, -1);
    // the module's own code runs now; its top-level awaits suspend it like a function's
    act.caller = state.current;
    state.current = act;
    return act;
  },
};

/** Defines `globalThis.__asyncdoctor$`, which compiled code calls (recording only while the graph is on). */
export function installTransformRuntime(): void {
  (globalThis as { __asyncdoctor$?: typeof transformRuntime }).__asyncdoctor$ ??= transformRuntime;
}

type Combinator = "all" | "allSettled" | "race" | "any";

/**
 * Turns the graph on: the promise hook that finds each activation's promise, and the
 * `Promise` combinators, which register their members. Returns a function that turns it off.
 *
 * @example
 * ```ts
 * const stop = startAwaitGraph();
 * // … code compiled by the transform now records its awaits …
 * stop();
 * ```
 */
export function startAwaitGraph(): () => void {
  installTransformRuntime();
  if (state.on) return stopAwaitGraph;
  state.on = true;
  state.stopHook = promiseHooks.createHook({ init: onInit }) as () => void;
  const P = Promise as unknown as Record<Combinator, (this: PromiseConstructor, it: Iterable<unknown>) => Promise<unknown>>;
  const originals = {} as Record<Combinator, (this: PromiseConstructor, it: Iterable<unknown>) => Promise<unknown>>;
  for (const k of ["all", "allSettled", "race", "any"] as const) {
    const orig = P[k];
    originals[k] = orig;
    const wrapped = {
      [k](this: PromiseConstructor, iterable: Iterable<unknown>): Promise<unknown> {
        // a non-iterable is the combinator's own error to throw
        if (iterable === null || typeof (iterable as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== "function") {
          return orig.call(this, iterable);
        }
        let members: unknown[];
        try {
          members = Array.from(iterable);
        } catch (err) {
          // the combinator rejects (it does not throw) when iterating fails: let it
          return orig.call(this, {
            [Symbol.iterator]: () => {
              throw err;
            },
          });
        }
        const p = orig.call(this, members);
        if (state.on) nodes.set(p, new GroupNode(members, k === "race" || k === "any"));
        return p;
      },
    }[k]!;
    Object.defineProperty(Promise, k, { value: wrapped, writable: true, configurable: true });
  }
  state.restore = () => {
    for (const k of ["all", "allSettled", "race", "any"] as const) {
      Object.defineProperty(Promise, k, { value: originals[k], writable: true, configurable: true });
    }
  };
  return stopAwaitGraph;
}

/** Turns the graph off (facts already recorded stay until their promises are collected). */
export function stopAwaitGraph(): void {
  if (!state.on) return;
  state.on = false;
  state.stopHook?.();
  state.stopHook = undefined;
  state.restore?.();
  state.restore = undefined;
  state.lastInit = undefined;
  state.current = undefined;
}
