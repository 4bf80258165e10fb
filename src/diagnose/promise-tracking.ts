/**
 * Debug mode: awaits that can never settle. V8's promise hooks tell us each time a promise is
 * awaited (or chained): the promise V8 creates for the await has the awaited one as parent.
 *
 * The cost is kept proportional to real suspensions, not to awaits: a promise that settled
 * before it was awaited (the common case in promise-heavy code) costs one hook call and one
 * comparison; only an await on a promise still pending records it, with the await's site.
 * When the event loop has drained (`beforeExit`), every recorded promise still pending can
 * never settle: nothing is left that could settle it.
 *
 * A record holds its awaited promise strongly only until the end of the loop turn it was made
 * in (most awaits resume within the same turn, and then cost no more), and weakly from then on.
 * (A WeakRef made on the hot path would keep its target alive to the end of the current job:
 * a long chain of microtasks would retain every promise it awaited.) A promise collected while
 * still pending had no resolver left anywhere: the function awaiting it can never resume, and is
 * collected in silence with it. That is reported at once as a *proven* `never-settled`.
 */
import { promiseHooks } from "node:v8";
import { performance } from "node:perf_hooks";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Diagnosis } from "../core/diagnosis.js";
import { captureFrames, frameFileName, frameToSite, isInternalFile } from "../core/site.js";
import type { Site } from "../core/site.js";
import { currentTask } from "../core/task.js";
import type { TaskRecord } from "../core/task.js";
import { sep } from "node:path";
import { inspect } from "node:util";

/** One await on a promise that was pending when it was awaited. */
export interface AwaitRecord {
  /** The awaited promise, until the end of the turn of the await (then {@link AwaitRecord.weak}). */
  strong: Promise<unknown> | undefined;
  /** The awaited promise, held weakly so that tracking never keeps it alive past its turn. */
  weak: WeakRef<Promise<unknown>> | undefined;
  /** The innermost frames of the await (raw: formatted only when reported). */
  readonly frames: NodeJS.CallSite[];
  readonly task: TaskRecord | undefined;
  /** What {@link setAwaitContext}'s provider returned at the await (the test helpers: the test). */
  readonly context: unknown;
  readonly since: number;
  /** Order of recording: an outer await is recorded after the awaits it is waiting on. */
  readonly seq: number;
  settled: boolean;
}

/** An await still pending, as {@link pendingAwaits} returns it. */
export interface PendingAwait {
  /** The user's await (or .then) that is waiting, when it is in the program's own code. */
  readonly site: Site | undefined;
  readonly taskName: string | undefined;
  readonly forMs: number;
  /** The task it runs in, when there is one. */
  readonly task?: TaskRecord | undefined;
  /** See {@link AwaitRecord.context}. */
  readonly context?: unknown;
  /** The awaited promise, while it is alive. */
  readonly promise?: Promise<unknown> | undefined;
  readonly seq?: number | undefined;
}

// several tasks may await one promise (a shared gate): each await is its own record, up to a few
const MAX_AWAITS_PER_PROMISE = 16;
// this turn's records, by promise (strong: cheap to add and delete on the hot path) …
let recent = new Map<Promise<unknown>, AwaitRecord[]>();
// … and the older ones, weakly (live holds their records for iteration)
let older = new WeakMap<Promise<unknown>, AwaitRecord[]>();
let live = new Set<AwaitRecord>();
let lastSettled: Promise<unknown> | undefined;
let lastCreated: Promise<unknown> | undefined;
let stop: (() => void) | undefined;
let seq = 0;
let contextOf: (() => unknown) | undefined;
let weakening = false;

/** At the end of the turn: the awaits still pending now hold their promises weakly. */
function weaken(): void {
  weakening = false;
  const list = recent;
  recent = new Map();
  for (const [p, recs] of list) {
    const pending = recs.filter((r) => !r.settled);
    if (pending.length === 0) continue;
    const ref = new WeakRef(p);
    for (const rec of pending) {
      rec.strong = undefined;
      rec.weak = ref;
      live.add(rec);
      collected.register(p, rec, rec);
    }
    const before = older.get(p);
    if (before) before.push(...pending);
    else older.set(p, pending);
  }
}

/** The awaited promise of a record, while it is alive. */
export function awaitedPromise(rec: AwaitRecord): Promise<unknown> | undefined {
  return rec.strong ?? rec.weak?.deref();
}

// The held value is the record, which holds the promise only weakly by then.
const collected = new FinalizationRegistry<AwaitRecord>((rec) => {
  if (rec.settled || !live.has(rec)) return;
  live.delete(rec);
  const d = collectedWhilePendingDiagnosis(rec);
  if (d) report(d);
});

function onInit(promise: Promise<unknown>, parent: Promise<unknown> | undefined): void {
  lastCreated = promise;
  // no parent: a fresh promise, not an await; parent just settled: the await will resume at once
  if (parent === undefined || parent === lastSettled) return;
  const others = recent.get(parent);
  if (others && others.length >= MAX_AWAITS_PER_PROMISE) return;
  const rec: AwaitRecord = {
    strong: parent,
    weak: undefined,
    frames: captureFrames(onInit, 5),
    task: currentTask(),
    context: contextOf?.(),
    since: performance.now(),
    seq: seq++,
    settled: false,
  };
  if (others) others.push(rec);
  else recent.set(parent, [rec]);
  if (!weakening) {
    weakening = true;
    setImmediate(weaken);
  }
}

function settle(rec: AwaitRecord): void {
  rec.settled = true;
  rec.strong = undefined;
  if (rec.weak) {
    live.delete(rec);
    collected.unregister(rec);
  }
}

function onSettled(promise: Promise<unknown>): void {
  lastSettled = promise;
  const now = recent.size > 0 ? recent.get(promise) : undefined;
  if (now) {
    for (const rec of now) settle(rec);
    recent.delete(promise);
  }
  if (live.size === 0) return;
  const old = older.get(promise);
  if (old) {
    for (const rec of old) settle(rec);
    older.delete(promise);
  }
}

/**
 * Starts recording awaits on pending promises (debug mode does it). Returns a function that stops.
 *
 * @example
 * ```ts
 * const stop = trackPromises();
 * // …
 * console.log(pendingAwaits());
 * stop();
 * ```
 */
export function trackPromises(): () => void {
  if (stop) return stop;
  const stopHook = promiseHooks.createHook({ init: onInit, settled: onSettled }) as () => void;
  stop = () => {
    stopHook();
    stop = undefined;
    for (const rec of live) collected.unregister(rec);
    recent = new Map();
    older = new WeakMap();
    live = new Set();
    lastSettled = undefined;
    lastCreated = undefined;
  };
  return stop;
}

/** True while promise tracking is on. */
export function isTrackingPromises(): boolean {
  return stop !== undefined;
}

/**
 * Tags each recorded await with what `provider` returns at the moment of the await (the test
 * helpers pass the running test, so a test's stuck awaits can be told from another's).
 * Undefined removes it.
 */
export function setAwaitContext(provider: (() => unknown) | undefined): void {
  contextOf = provider;
}

/**
 * The promise created last (while tracking): inside a `new Promise(executor)`, the promise
 * whose executor is running, since V8 announces a promise before it runs the executor.
 */
export function lastCreatedPromise(): Promise<unknown> | undefined {
  return lastCreated;
}

/** A promise's state, read the one way Node offers without a native binding (not on a hot path). */
export function isPending(promise: Promise<unknown>): boolean {
  return inspect(promise, { depth: 0, customInspect: false, maxStringLength: 0, maxArrayLength: 0 }).includes("<pending>");
}

/** The program's own file: not asyncdoctor, not Node, not a dependency. */
function isOwnFile(file: string): boolean {
  return !isInternalFile(file) && !file.includes(`${sep}node_modules${sep}`);
}

/** The await's site in the program's own code, or undefined (a library's own chaining, an internal job). */
function ownSite(rec: AwaitRecord): Site | undefined {
  // builtins have no file; Node's own hook multiplexer may sit between the hook and the awaiting frame
  const frame = rec.frames.find((f) => frameFileName(f) !== undefined && !frameFileName(f)!.startsWith("node:"));
  const file = frame && frameFileName(frame);
  if (!frame || !file || !isOwnFile(file)) return undefined;
  const raw = frameToSite(frame);
  if (!raw) return undefined;
  // V8 names an anonymous arrow after an object literal's key nearby ("spawn.name"): not a real name
  return raw.functionName?.includes(".") ? { ...raw, functionName: undefined } : raw;
}

/**
 * Every recorded await still pending, including the ones made by libraries and Node's own
 * jobs (the links between the program's awaits), oldest first.
 */
export function pendingAwaitRecords(): AwaitRecord[] {
  const out: AwaitRecord[] = [];
  const all = [...[...recent.values()].flat(), ...live].sort((a, b) => a.seq - b.seq);
  for (const rec of all) {
    if (rec.settled) continue;
    const p = awaitedPromise(rec);
    // an await on a promise that had settled long before (not the one just settled) is recorded
    // too; its state is checked here, on the rare reporting path, rather than on every settle
    if (!p || !isPending(p)) {
      if (p) {
        for (const r of recent.get(p) ?? older.get(p) ?? []) settle(r);
        recent.delete(p);
        older.delete(p);
      } else settle(rec);
      continue;
    }
    out.push(rec);
  }
  return out;
}

/** Every await still waiting whose site is in the program's own code, oldest first. */
export function pendingAwaits(): PendingAwait[] {
  const now = performance.now();
  const out: PendingAwait[] = [];
  for (const rec of pendingAwaitRecords()) {
    const site = ownSite(rec);
    if (!site) continue;
    out.push({
      site,
      taskName: rec.task?.name,
      forMs: Math.round(now - rec.since),
      task: rec.task,
      context: rec.context,
      promise: awaitedPromise(rec),
      seq: rec.seq,
    });
  }
  return out;
}

/** The proof made when an awaited promise is collected while pending (undefined: not the program's await). */
function collectedWhilePendingDiagnosis(rec: AwaitRecord): Diagnosis | undefined {
  const site = ownSite(rec);
  if (!site) return undefined;
  const fn = site.functionName;
  const ms = Math.round(performance.now() - rec.since);
  return createDiagnosis({
    rule: "never-settled",
    certainty: "proven",
    summary:
      `${fn ? `${fn}()` : "an async function"} awaited a promise that was garbage-collected while still pending: nothing held a way to resolve it, so the function can never resume` +
      (rec.task ? ` (in task "${rec.task.name}")` : "") +
      "; its work after the await is lost, with no error",
    subjects: [{ kind: "promise", name: "the awaited promise", role: "awaited here", site, detail: `pending ${ms} ms, then collected` }],
    site,
    fix: "keep the resolve/reject functions where the code that must call them can reach them (a listener, a callback, a queue), and call one on every path; or race the wait against withTimeout()",
    data: { collected: true, task: rec.task?.name },
  });
}
