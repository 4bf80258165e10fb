/**
 * Debug mode: awaits that can never settle. V8's promise hooks tell us each time a promise is
 * awaited (or chained): the promise V8 creates for the await has the awaited one as parent.
 *
 * The cost is kept proportional to real suspensions, not to awaits: a promise that settled
 * before it was awaited (the common case in promise-heavy code) costs one hook call and one
 * comparison; only an await on a promise still pending records it, with the await's site.
 * When the event loop has drained (`beforeExit`), every recorded promise still pending can
 * never settle: nothing is left that could settle it.
 */
import { promiseHooks } from "node:v8";
import { performance } from "node:perf_hooks";
import { createDiagnosis } from "../core/diagnosis.js";
import type { Diagnosis, Step } from "../core/diagnosis.js";
import { captureFrames, frameFileName, frameToSite, isInternalFile } from "../core/site.js";
import type { Site } from "../core/site.js";
import { currentTask } from "../core/task.js";
import { sep } from "node:path";
import { inspect } from "node:util";

interface AwaitRecord {
  /** The innermost frames of the await (raw: formatted only when reported). */
  readonly frames: NodeJS.CallSite[];
  readonly taskName: string | undefined;
  readonly since: number;
}

/** An await still pending, as {@link pendingAwaits} returns it. */
export interface PendingAwait {
  /** The user's await (or .then) that is waiting, when it is in the program's own code. */
  readonly site: Site | undefined;
  readonly taskName: string | undefined;
  readonly forMs: number;
}

let pending = new Map<Promise<unknown>, AwaitRecord>();
let lastSettled: Promise<unknown> | undefined;
let stop: (() => void) | undefined;

function onInit(_promise: Promise<unknown>, parent: Promise<unknown> | undefined): void {
  // no parent: a fresh promise, not an await; parent just settled: the await will resume at once
  if (parent === undefined || parent === lastSettled || pending.has(parent)) return;
  pending.set(parent, { frames: captureFrames(onInit, 5), taskName: currentTask()?.name, since: performance.now() });
}

function onSettled(promise: Promise<unknown>): void {
  lastSettled = promise;
  if (pending.size > 0) pending.delete(promise);
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
    pending = new Map();
    lastSettled = undefined;
  };
  return stop;
}

/** True while promise tracking is on. */
export function isTrackingPromises(): boolean {
  return stop !== undefined;
}

/** A promise's state, read the one way Node offers without a native binding (not on a hot path). */
function isPending(promise: Promise<unknown>): boolean {
  return inspect(promise, { depth: 0, customInspect: false, maxStringLength: 0, maxArrayLength: 0 }).includes("<pending>");
}

/** The program's own file: not asyncdoctor, not Node, not a dependency. */
function isOwnFile(file: string): boolean {
  return !isInternalFile(file) && !file.includes(`${sep}node_modules${sep}`);
}

/** Every await still waiting whose site is in the program's own code, oldest first. */
export function pendingAwaits(): PendingAwait[] {
  const now = performance.now();
  const out: PendingAwait[] = [];
  for (const [promise, rec] of pending) {
    // an await on a promise that had settled long before (not the one just settled) is recorded
    // too; its state is checked here, on the rare reporting path, rather than on every settle
    if (!isPending(promise)) {
      pending.delete(promise);
      continue;
    }
    // the frame that awaits (or calls .then): builtins have no file; a library's own chaining is not the program's await
    // (Node's own hook multiplexer may sit between the hook and the awaiting frame)
    const frame = rec.frames.find((f) => frameFileName(f) !== undefined && !frameFileName(f)!.startsWith("node:"));
    const file = frame && frameFileName(frame);
    if (!frame || !file || !isOwnFile(file)) continue;
    const raw = frameToSite(frame);
    if (!raw) continue;
    // V8 names an anonymous arrow after an object literal's key nearby ("spawn.name"): not a real name
    const site = raw.functionName?.includes(".") ? { ...raw, functionName: undefined } : raw;
    out.push({ site, taskName: rec.taskName, forMs: Math.round(now - rec.since) });
  }
  return out;
}

/**
 * `never-settled` Diagnoses for the awaits still pending once the event loop is empty. Awaits
 * at the same site are grouped into one finding. The steps run from the innermost await (it
 * began first) outwards.
 */
export function neverSettledDiagnoses(): Diagnosis[] {
  const bySite = new Map<string, PendingAwait[]>();
  for (const a of pendingAwaits()) {
    const key = `${a.site?.file}:${a.site?.line}:${a.site?.column}`;
    const list = bySite.get(key) ?? [];
    list.push(a);
    bySite.set(key, list);
  }
  const all = [...bySite.values()];
  const steps: Step[] = all.map((list) => ({
    text: `${list[0]?.site?.functionName ?? "<anonymous>"} awaits here${list.length > 1 ? ` (${list.length} times)` : ""}`,
    site: list[0]?.site,
  }));
  return all.map((list, i) => {
    const first = list[0]!;
    const fn = first.site?.functionName;
    return createDiagnosis({
      rule: "never-settled",
      certainty: "proven",
      summary:
        `${fn ? `${fn}()` : "an async function"} awaits a promise that can never settle: the event loop is empty, nothing is left to resolve it` +
        (first.taskName ? ` (in task "${first.taskName}")` : "") +
        (list.length > 1 ? `; ${list.length} awaits at this line` : ""),
      subjects: [{ kind: "promise", name: "the awaited promise", role: "awaited here", site: first.site, detail: `waiting ${first.forMs} ms` }],
      steps: all.length > 1 ? steps : undefined,
      site: first.site,
      fix: "resolve or reject the promise on every path (a missing resolve() call, an event that never fires, a callback never called), or race it against a timeout with withTimeout()",
      data: { count: list.length, index: i },
    });
  });
}
