/**
 * Dropped promises at run time (debug mode): a promise that the user's code receives and
 * throws away, with nothing that waits for it or handles it.
 *
 * The load-time transform (await-transform.ts) marks the places where a value is discarded: a
 * call whose statement ignores its value (`f();`), `void f()`, a `.then()` chain's last link, and
 * a callback whose value the callee ignores (`forEach`, lodash's `_.forEach`, an EventEmitter
 * listener, a timer). Only there does this detector look, so what it reports was certainly
 * discarded by the code. A discarded value that is a promise gets a drop record; the await
 * graph's promise hook marks the record handled the moment anything reacts to the promise
 * later (an await, a `.then`, `Promise.all`): a promise the callee kept and someone awaits is
 * not dropped. (A reaction the callee attached before returning it does not count: the caller
 * still dropped its result.)
 *
 * What is reported (rule `dropped-promise`, observed), once the program ends:
 * - a dropped promise of an async function that was still pending when the function that
 *   dropped it returned (or, for `forEach`, when `forEach` returned), and that nothing ever
 *   reacted to: the caller went on without it;
 * - any dropped promise (including `void f()`) still pending at exit, when nothing reacted to
 *   it: its work was cut off (unless it waits on the code that called `process.exit()`).
 * A dropped promise that rejects is Node's unhandled rejection; that report (tasks/guards.ts)
 * names the line where it was dropped, and it is not reported again here.
 */
import { EventEmitter } from "node:events";
import { sep } from "node:path";
import { awaitsThrough, nodeOf, runningActivations, setDropHandlers, setDropRecord } from "../core/await-graph.js";
import type { Activation, DropHandlers, DropKind, DropRecord, FileMeta } from "../core/await-graph.js";
import { createDiagnosis } from "../core/diagnosis.js";
import type { Diagnosis, Subject } from "../core/diagnosis.js";
import { captureFrames, formatSite, frameFileName, frameToSite, isInternalFile } from "../core/site.js";
import type { Site } from "../core/site.js";
import { processWide } from "../core/process-wide.js";
import { isPending } from "./promise-tracking.js";

/** A drop as this detector keeps it. */
interface Drop extends DropRecord {
  readonly promise: WeakRef<Promise<unknown>>;
  /** The promise is an async function's of the user's code (its own activation's). */
  readonly ownAsync: boolean;
  /** Where the callee that ignores it was given the callback (a listener's `on()`), if not the drop site. */
  readonly registeredAt: Site | undefined;
  /** What returned while it was still pending, with nothing reacting to it ("test()", "arr.forEach()"). */
  pendingWhenReturned: string | undefined;
}

/** The drops of one `forEach(…)` call, checked when it returns. */
interface IterateFrame {
  readonly meta: FileMeta;
  readonly at: number;
  readonly drops: Drop[];
}

/** Why the program is ending, as the exit report says it. */
export type DropReportReason = "drained" | "exit" | "SIGINT" | "SIGTERM";

const state = processWide("droppedPromises", () => ({
  installed: undefined as (() => void) | undefined,
  live: new Set<Drop>(),
  pruneAt: 4096,
  frames: [] as IterateFrame[],
  // per file, per drop site: which argument the verified callee ignores (-1: not a callee that ignores it)
  verdicts: new WeakMap<FileMeta, Map<number, number>>(),
  // drops whose promise was collected with nothing having reacted to it: final findings, per site
  final: new Map<string, Group>(),
}));

const MAX_FRAMES = 256;
const NODE_MODULES = `${sep}node_modules${sep}`;

const collected = new FinalizationRegistry<Drop>((d) => {
  // collected: nothing can react to it any more. A finding-to-be is final now: it is folded into
  // its site's count, so a long-running program keeps one record per site, not one per drop
  state.live.delete(d);
  if (d.pendingWhenReturned === undefined || d.handled || d.reported) return;
  const key = groupKey(d);
  const f = state.final.get(key);
  if (f === undefined) state.final.set(key, { first: d, count: 1, whenReturned: new Set([d.pendingWhenReturned]), atExit: 0 });
  else {
    f.count++;
    f.whenReturned.add(d.pendingWhenReturned);
  }
});

function groupKey(d: Drop): string {
  return `${d.site.file}:${d.site.line}:${d.site.column}:${d.kind}`;
}

function siteOf(meta: FileMeta, at: number): Site {
  const s = meta.drops?.[at];
  return { file: meta.file, line: s?.[0] ?? 0, column: s?.[1] ?? 0 };
}

function kindOf(meta: FileMeta, at: number): DropKind | undefined {
  return meta.drops?.[at]?.[3];
}

/** lodash or underscore (`_.forEach(collection, fn)` ignores what fn returns). */
function isLodashLike(x: unknown): boolean {
  if ((typeof x !== "function" && typeof x !== "object") || x === null) return false;
  const l = x as { VERSION?: unknown; forEach?: unknown; each?: unknown };
  return typeof l.VERSION === "string" && typeof l.forEach === "function" && l.forEach === l.each;
}

const TIMER_FUNCTIONS = new Set<unknown>([globalThis.setTimeout, globalThis.setInterval, globalThis.setImmediate, globalThis.queueMicrotask]);

/** Which argument of the call the callee is known to call and ignore the value of (-1: none). */
function ignoredArgument(kind: DropKind, recv: unknown): number {
  switch (kind) {
    case "iterate":
      if (Array.isArray(recv) || recv instanceof Map || recv instanceof Set || ArrayBuffer.isView(recv)) return 0;
      return isLodashLike(recv) ? 1 : -1;
    case "listener":
      return recv instanceof EventEmitter || (typeof EventTarget === "function" && recv instanceof EventTarget) ? 1 : -1;
    case "timer":
      return TIMER_FUNCTIONS.has(recv) || recv === process ? 0 : -1;
    default:
      return -1;
  }
}

/**
 * The user's line that called Node's emitter machinery above `above` (a listener's: the
 * `emit()` that called it), or undefined when what called it is not the user's code (Node's own
 * I/O, a library, code made by `eval`): then no line of theirs dropped it.
 */
function emitCallerSite(above: Function): Site | undefined {
  for (const f of captureFrames(above, 12)) {
    const file = frameFileName(f);
    // Node's own frames (emit, a builtin) and asyncdoctor's (its emit watch) sit between the listener and whoever emitted
    if (file === undefined ? !f.isEval() : isInternalFile(file)) continue;
    if (file === undefined || file.includes(NODE_MODULES)) return undefined;
    return frameToSite(f);
  }
  return undefined;
}

function prune(): void {
  for (const d of state.live) {
    if (d.handled || d.reported) {
      state.live.delete(d);
      continue;
    }
    if (d.pendingWhenReturned !== undefined) continue;
    const p = d.promise.deref();
    if (p === undefined || !isPending(p)) state.live.delete(d);
  }
  state.pruneAt = Math.max(4096, state.live.size * 2);
}

function record(p: Promise<unknown>, meta: FileMeta, at: number, kind: DropKind, site: Site, registeredAt?: Site): Drop | undefined {
  const entry = meta.drops?.[at];
  const d: Drop = {
    kind,
    meta,
    at,
    site,
    code: entry?.[2] ?? "a call",
    handled: false,
    reported: false,
    promise: new WeakRef(p),
    ownAsync: nodeOf(p)?.kind === "activation",
    registeredAt,
    pendingWhenReturned: undefined,
  };
  // a promise dropped twice keeps its first drop
  if (!setDropRecord(p, d)) return undefined;
  state.live.add(d);
  collected.register(p, d, d);
  if (state.live.size > state.pruneAt) prune();
  return d;
}

/** Still pending and nothing reacted to it: the code that dropped it went on without it. */
function stillDropped(d: Drop): boolean {
  if (!d.ownAsync || d.handled) return false;
  const p = d.promise.deref();
  return p !== undefined && isPending(p);
}

const handlers: DropHandlers = {
  dropped(value: unknown, meta: FileMeta, at: number, by: Activation | undefined): void {
    if (!(value instanceof Promise)) return;
    const kind = kindOf(meta, at);
    if (kind === undefined) return;
    const d = record(value, meta, at, kind, siteOf(meta, at));
    // only a statement's drop in an async function's own body is checked when that function returns
    if (d !== undefined && by !== undefined && kind === "statement") (by.drops ??= []).push(d);
  },
  returned(act: Activation): void {
    const drops = act.drops as Drop[];
    act.drops = undefined;
    for (const d of drops) if (stillDropped(d)) d.pendingWhenReturned = `${act.link().name === "<anonymous>" ? "the async function" : `${act.link().name}()`}`;
  },
  callee<T>(recv: T, meta: FileMeta, at: number): T {
    const kind = kindOf(meta, at);
    if (kind === undefined) return recv;
    let perFile = state.verdicts.get(meta);
    if (perFile === undefined) state.verdicts.set(meta, (perFile = new Map<number, number>()));
    perFile.set(at, ignoredArgument(kind, recv));
    if (kind === "iterate") {
      if (state.frames.length >= MAX_FRAMES) state.frames.shift();
      state.frames.push({ meta, at, drops: [] });
    }
    return recv;
  },
  callback<T>(fn: T, meta: FileMeta, at: number, index: number): T {
    if (typeof fn !== "function" || state.verdicts.get(meta)?.get(at) !== index) return fn;
    const kind = kindOf(meta, at)!;
    const top = state.frames[state.frames.length - 1];
    const frame = kind === "iterate" && top?.meta === meta && top.at === at ? top : undefined;
    const original = fn as unknown as (...args: unknown[]) => unknown;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      const v = Reflect.apply(original, this, args);
      if (v instanceof Promise) {
        const here = siteOf(meta, at);
        // a listener's promise is dropped by the emit() that called it: name that line
        const emitAt = kind === "listener" ? emitCallerSite(wrapped) : undefined;
        const d = record(v, meta, at, kind, emitAt ?? here, emitAt !== undefined ? here : undefined);
        if (d !== undefined && frame !== undefined) frame.drops.push(d);
      }
      return v;
    };
    return wrapped as unknown as T;
  },
  ended<T>(value: T, meta: FileMeta, at: number): T {
    // a forEach that threw left its frame (and any inner one) behind: pop down to this call's
    for (let i = state.frames.length - 1; i >= 0; i--) {
      const f = state.frames[i]!;
      if (f.meta !== meta || f.at !== at) continue;
      state.frames.length = i;
      const code = meta.drops?.[at]?.[2] ?? "forEach()";
      for (const d of f.drops) if (stillDropped(d)) d.pendingWhenReturned = code;
      break;
    }
    return value;
  },
};

/**
 * Turns the dropped-promise detector on (debug mode does it; the await-graph transform must
 * compile the program for it to see anything). Returns a function that turns it off.
 *
 * @example
 * ```ts
 * const stop = watchDroppedPromises();
 * // … the program runs …
 * for (const d of droppedPromiseFindings("drained")) console.log(d.summary);
 * stop();
 * ```
 */
export function watchDroppedPromises(): () => void {
  if (state.installed !== undefined) return state.installed;
  setDropHandlers(handlers);
  const stop = (): void => {
    setDropHandlers(undefined);
    state.installed = undefined;
    state.frames.length = 0;
  };
  state.installed = stop;
  return stop;
}

/** Forgets every drop seen so far (the test helpers and tests start from a clean slate). */
export function resetDroppedPromises(): void {
  for (const d of state.live) collected.unregister(d);
  state.live.clear();
  state.final.clear();
  state.frames.length = 0;
  state.pruneAt = 4096;
}

interface Group {
  readonly first: Drop;
  count: number;
  whenReturned: Set<string>;
  atExit: number;
}

const WHEN: Record<DropReportReason, string> = {
  drained: "when the event loop drained",
  exit: "when the process exited",
  SIGINT: "when the process received SIGINT",
  SIGTERM: "when the process received SIGTERM",
};

/**
 * The dropped promises to report now, one Diagnosis per drop site: the ones still pending when
 * the code that dropped them returned and that nothing ever reacted to, and the ones still
 * pending now (the program is ending for `reason`) with nothing reacting to them.
 *
 * @example
 * ```ts
 * process.on("exit", () => console.error(droppedPromiseFindings("exit").map((d) => d.summary)));
 * ```
 */
export function droppedPromiseFindings(reason: DropReportReason): Diagnosis[] {
  if (!Object.prototype.hasOwnProperty.call(WHEN, reason)) {
    throw new RangeError(`reason: expected one of ${Object.keys(WHEN).join(", ")}, got ${String(reason)}`);
  }
  // a program that handles the signal itself may still await what it kept (a graceful shutdown):
  // nothing is certain yet, and its own exit or drain comes too late for this report
  if ((reason === "SIGINT" || reason === "SIGTERM") && process.listenerCount(reason) > 0) return [];
  // a promise whose settling waits on the code that is running now (the one calling process.exit()) was not cut off
  const running = runningActivations()
    .map((a) => a.promise)
    .filter((p): p is Promise<unknown> => p !== undefined);
  const groups = new Map<string, Group>();
  for (const [key, f] of state.final) groups.set(key, { first: f.first, count: f.count, whenReturned: new Set(f.whenReturned), atExit: 0 });
  for (const d of state.live) {
    if (d.handled || d.reported) continue;
    const p = d.promise.deref();
    // when the loop drained or a signal came, a script's `main();` still pending is stuck (never-settled
    // says why) or was stopped, not dropped work: only process.exit() cuts off the module's own drops
    const topLevel = d.meta.drops?.[d.at]?.[4] === 1;
    const atExit =
      p !== undefined && d.kind !== "chain" && (reason === "exit" || !topLevel) && isPending(p) && !running.some((r) => r === p || awaitsThrough(p, r));
    if (d.pendingWhenReturned === undefined && !atExit) continue;
    const key = groupKey(d);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { first: d, count: 0, whenReturned: new Set(), atExit: 0 }));
    g.count++;
    if (d.pendingWhenReturned !== undefined) g.whenReturned.add(d.pendingWhenReturned);
    if (atExit) g.atExit++;
  }
  return [...groups.values()].map((g) => droppedDiagnosis(g, WHEN[reason]));
}

function droppedDiagnosis(g: Group, when: string): Diagnosis {
  const d = g.first;
  const at = formatSite(d.site);
  const n = g.count;
  const them = n === 1 ? "it" : "them";
  const facts: string[] = [];
  if (g.whenReturned.size > 0) facts.push(`still pending when ${[...g.whenReturned].join(" / ")} returned, and nothing ever waited for ${them}`);
  if (g.atExit > 0)
    facts.push(
      `${g.atExit === n ? (n === 1 ? "it was" : "they were") : `${g.atExit} were`} still pending ${when}: ${g.atExit === 1 ? "its" : "their"} work was cut off`,
    );
  const what = n === 1 ? "a promise" : `${n} promises`;
  let summary: string;
  let fix: string;
  switch (d.kind) {
    case "iterate":
      summary = `${d.code} at ${at} ignores what its callback returns: ${what} of the async callback dropped, ${facts.join("; ")}`;
      fix =
        "forEach never waits for an async callback: use `for (const x of items) await f(x)` to run them in turn, or `await Promise.all(items.map(async (x) => …))` to run them together";
      break;
    case "listener":
      summary = `the emitter ignores what a listener returns: ${what} of the listener registered by ${d.code} dropped at ${at}, ${facts.join("; ")}`;
      fix =
        "an emitter never waits for an async listener: make the work the listener starts something the program awaits (a queue, a TaskTracker) before it ends, and catch inside the listener";
      break;
    case "timer":
      summary = `${d.code}'s callback returned ${what} that the timer ignores (at ${at}), ${facts.join("; ")}`;
      fix = "a timer never waits for its callback's promise: keep that promise (or spawn it on a TaskTracker) and await it before the program ends";
      break;
    case "void":
      summary = `\`void ${d.code}\` at ${at} dropped ${what} on purpose, but ${facts.join("; ")}`;
      fix = "await it before exiting (or keep it and await it in the shutdown path); `void` says nobody waits for it, so process.exit() cuts it off";
      break;
    default:
      summary = `${what} returned by ${d.code} at ${at} ${n === 1 ? "was" : "were"} dropped: nothing awaits or handles ${them}; ${facts.join("; ")}`;
      fix =
        "await it, or return it to a caller that awaits it; for background work on purpose, keep the promise and await it before exiting (or spawn it on a TaskTracker), and attach .catch() so its failure is reported";
  }
  const subjects: Subject[] = [{ kind: "promise", name: d.code, role: "dropped here", site: d.site, detail: n > 1 ? `${n} promises` : undefined }];
  if (d.registeredAt !== undefined) subjects.push({ kind: "code", name: d.code, role: "listener registered here", site: d.registeredAt });
  return createDiagnosis({
    rule: "dropped-promise",
    certainty: "observed",
    summary,
    subjects,
    site: d.site,
    fix,
    data: { kind: d.kind, count: n, pendingWhenReturned: g.whenReturned.size > 0, pendingAtExit: g.atExit },
  });
}
