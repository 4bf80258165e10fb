/**
 * The stuck-awaits report, the async jstack: every await in the program's own code that has
 * been pending longer than a threshold, as chains of awaits in forward order (outermost first),
 * one chain per task (a task's steps never show up in another's report), identical chains
 * grouped; with what could settle the awaited promise where that is known (a listener for an
 * event, and whether the event was already emitted), and the handles that keep the event loop
 * alive (intervals, sockets, servers, child processes) with the lines that created them.
 *
 * It is made at exit and on SIGINT/SIGTERM (the exit report), on SIGUSR2 and `dump()`, by the
 * `run --stuck-after <ms>` watchdog, and when a withTimeout or a test times out. It is *proven*
 * once the event loop has drained (nothing is left that could settle anything); on a live loop
 * it is *observed*. (An awaited promise collected while pending is proven at once, by
 * promise-tracking.ts.)
 *
 * Chains come from a {@link ChainBuilder}. While the await graph records (debug mode), the default
 * follows its facts: an await of an async call's promise leads to that call's own pending await,
 * through `Promise.all`-style groups and asyncdoctor's operations ({@link chainsByActivation});
 * awaits no fact connects, and every await without the graph, are ordered per task by when they
 * were made ({@link chainsByTask}). setAwaitChainBuilder replaces both.
 */
import { performance } from "node:perf_hooks";
import { awaitGraphOn, nodeOf } from "../core/await-graph.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Diagnosis, Step, Subject } from "../core/diagnosis.js";
import { formatSite } from "../core/site.js";
import type { TaskRecord } from "../core/task.js";
import { InvalidArgTypeError, validateObject, validateOneOf, validateTimeoutMs } from "../core/validate.js";
import { settleHints } from "./emitter-watch.js";
import type { SettleHint } from "./emitter-watch.js";
import { loopKeepers } from "./node-resources.js";
import { awaitedPromise, isTrackingPromises, pendingAwaitRecords, pendingAwaits } from "./promise-tracking.js";
import type { PendingAwait } from "./promise-tracking.js";

/** What made the report. */
export type StuckReason = "drained" | "exit" | "SIGINT" | "SIGTERM" | "SIGUSR2" | "dump" | "watchdog" | "timeout" | "test-timeout";

const REASONS: readonly StuckReason[] = ["drained", "exit", "SIGINT", "SIGTERM", "SIGUSR2", "dump", "watchdog", "timeout", "test-timeout"];

/** One chain of awaits: the outermost await first, the one waiting on the leaf promise last. */
export interface AwaitChain {
  /** The task the chain runs in (undefined outside every task). */
  readonly task: TaskRecord | undefined;
  readonly awaits: readonly PendingAwait[];
}

/** Turns the pending awaits into chains. */
export type ChainBuilder = (awaits: readonly PendingAwait[]) => AwaitChain[];

/** Options of {@link stuckAwaitsReport}. */
export interface StuckAwaitsOptions {
  /**
   * Only awaits pending at least this long (ms). Default 0 when the loop drained or something
   * timed out, else the stuck threshold ({@link setStuckThreshold}, 1000 by default).
   */
  thresholdMs?: number;
  /** Only the awaits this keeps (a test's, a task's). */
  filter?: (a: PendingAwait) => boolean;
  /** For "timeout" / "test-timeout": the name of what timed out. */
  operation?: string;
  /** List the handles that keep the event loop alive (default true, except when it drained). */
  handles?: boolean;
}

/** Outermost first; the same line awaited again (a loop, Promise.all over one function) is one step. */
function ordered(list: readonly PendingAwait[]): PendingAwait[] {
  const seen = new Set<string>();
  return [...list]
    .sort((x, y) => (y.seq ?? 0) - (x.seq ?? 0))
    .filter((a) => {
      const k = formatSite(a.site);
      return !seen.has(k) && seen.add(k);
    });
}

/**
 * The default chains: per task, its awaits from the outermost in (an outer await is recorded
 * after the awaits it waits on, since the callee runs up to its first await before the caller
 * awaits it). Awaits outside every task: one chain per test (their context), else one per line.
 */
export const chainsByTask: ChainBuilder = (awaits) => {
  const byTask = new Map<TaskRecord, PendingAwait[]>();
  const loose = new Map<unknown, PendingAwait[]>();
  for (const a of awaits) {
    if (a.task) {
      const list = byTask.get(a.task) ?? [];
      list.push(a);
      byTask.set(a.task, list);
    } else {
      // outside every task: the awaits of one test (its context) are one chain, else one per line
      const key = a.context !== undefined ? a.context : formatSite(a.site);
      const list = loose.get(key) ?? [];
      list.push(a);
      loose.set(key, list);
    }
  }
  const out: AwaitChain[] = [];
  for (const [task, list] of byTask) out.push({ task, awaits: ordered(list) });
  for (const [key, list] of loose) {
    if (typeof key === "string") out.push({ task: undefined, awaits: [list[0]!] });
    else out.push({ task: undefined, awaits: ordered(list) });
  }
  return out;
};

const MAX_HOPS = 64;

/** The promises `p`'s settlement waits on that an async call awaits: through activations, groups and operations. */
function awaitedNext(p: Promise<unknown>): Promise<unknown>[] {
  const out: Promise<unknown>[] = [];
  const seen = new Set<unknown>();
  const visit = (x: unknown, depth: number): void => {
    if (typeof x !== "object" || x === null || seen.has(x) || depth > MAX_HOPS) return;
    seen.add(x);
    const n = nodeOf(x);
    if (n === undefined) return;
    if (n.kind === "activation") {
      // what the call awaits now: that await is the next step (its own record)
      const awaiting = (n as unknown as { awaiting: unknown }).awaiting;
      if (awaiting instanceof Promise) out.push(awaiting);
    } else if (n.kind === "op") visit((n as unknown as { on: unknown }).on, depth + 1);
    else if (n.kind === "group") for (const m of (n as unknown as { members: readonly unknown[] }).members) visit(m, depth + 1);
  };
  visit(p, 0);
  return out;
}

/**
 * Chains of awaiting activations, from the await graph: an await of an async call's promise is
 * followed by that call's own pending await (through Promise.all and the like, one chain per
 * branch), outermost first, within one task. Awaits no fact connects go to {@link chainsByTask}.
 */
export const chainsByActivation: ChainBuilder = (awaits) => {
  const byPromise = new Map<Promise<unknown>, PendingAwait[]>();
  for (const a of awaits) {
    if (a.promise === undefined) continue;
    const list = byPromise.get(a.promise) ?? [];
    list.push(a);
    byPromise.set(a.promise, list);
  }
  const inner = new Map<PendingAwait, PendingAwait[]>();
  const isInner = new Set<PendingAwait>();
  // outermost first (an outer await is recorded after the awaits it waits on): each await is the
  // next step of one await only, so calls that await one shared promise each keep their own
  for (const a of [...awaits].sort((x, y) => (y.seq ?? 0) - (x.seq ?? 0))) {
    if (a.promise === undefined) continue;
    const next: PendingAwait[] = [];
    for (const p of awaitedNext(a.promise)) {
      const b = (byPromise.get(p) ?? []).find((c) => c !== a && c.task === a.task && !isInner.has(c) && !next.includes(c));
      if (b !== undefined) next.push(b);
    }
    if (next.length === 0) continue;
    inner.set(a, next);
    for (const b of next) isInner.add(b);
  }
  const out: AwaitChain[] = [];
  const walk = (a: PendingAwait, path: PendingAwait[]): void => {
    const next = (inner.get(a) ?? []).filter((b) => !path.includes(b));
    const here = [...path, a];
    if (next.length === 0 || here.length >= MAX_HOPS) out.push({ task: here[0]!.task, awaits: here });
    else for (const b of next) walk(b, here);
  };
  const covered = new Set<PendingAwait>();
  for (const a of awaits) {
    if (!inner.has(a) || isInner.has(a)) continue;
    const before = out.length;
    walk(a, []);
    for (const c of out.slice(before)) for (const x of c.awaits) covered.add(x);
  }
  // a ring of awaits (each awaited by another): one chain from its oldest
  for (const a of [...awaits].sort((x, y) => (y.forMs ?? 0) - (x.forMs ?? 0))) {
    if (!inner.has(a) || covered.has(a)) continue;
    const before = out.length;
    walk(a, []);
    for (const c of out.slice(before)) for (const x of c.awaits) covered.add(x);
  }
  out.push(...chainsByTask(awaits.filter((a) => !covered.has(a) && !isInner.has(a))));
  return out;
};

/** The default: activation chains while the await graph records, else per task. */
const chainsByDefault: ChainBuilder = (awaits) => (awaitGraphOn() ? chainsByActivation(awaits) : chainsByTask(awaits));

let builder: ChainBuilder = chainsByDefault;

/** How long an await must have been pending to be stuck, on a live loop (ms). */
let stuckAfterMs = 1000;

/**
 * Sets how long an await must have been pending to count as stuck on a live loop (at exit,
 * on a signal, in a dump); `run --stuck-after <ms>` sets it. Default 1000 ms.
 *
 * @example
 * ```ts
 * setStuckThreshold(5_000);
 * ```
 */
export function setStuckThreshold(ms: number): void {
  validateTimeoutMs(ms, "ms", { allowZero: true });
  stuckAfterMs = ms;
}

/**
 * Replaces how pending awaits become chains. Undefined restores the default:
 * {@link chainsByActivation} while the await graph records, else {@link chainsByTask}.
 *
 * @example
 * ```ts
 * setAwaitChainBuilder(chainsByTask); // one chain per task, ordered by when the awaits were made
 * ```
 */
export function setAwaitChainBuilder(next: ChainBuilder | undefined): void {
  if (next !== undefined && typeof next !== "function") throw new InvalidArgTypeError("next", "a function or undefined", next);
  builder = next ?? chainsByDefault;
}

function whenText(reason: StuckReason, operation: string | undefined): string {
  switch (reason) {
    case "drained":
      return "the event loop is empty, nothing is left to resolve it";
    case "exit":
      return "seen when the process exited";
    case "SIGINT":
    case "SIGTERM":
      return `seen when the process received ${reason}`;
    case "SIGUSR2":
    case "dump":
      return "seen in a state dump";
    case "watchdog":
      return "seen by the --stuck-after watchdog";
    case "timeout":
      return `seen when operation "${operation ?? "?"}" timed out`;
    case "test-timeout":
      return `seen when test "${operation ?? "?"}" timed out`;
  }
}

function hintSubject(h: SettleHint): Subject {
  const state =
    h.emittedBefore > 0
      ? `"${h.event}" was already emitted ${h.emittedBefore} time(s) before the listener was added, while nothing listened: the listener missed it`
      : h.stillListening
        ? `still listening: "${h.event}" has not been emitted since the listener was added`
        : `"${h.event}" was not emitted before the listener was added`;
  // (kind "promise": the text report folds "code" subjects into the steps)
  return { kind: "promise", name: `a listener for event "${h.event}" on ${h.emitterName}`, role: "could settle it", site: h.site, detail: state };
}

/** The settle hints of a chain: its own promises, and the links Node made for them in the same task. */
function hintsFor(chain: AwaitChain, onlyLooseChain: boolean): SettleHint[] {
  const out: SettleHint[] = [];
  const promises = new Set<Promise<unknown>>();
  for (const a of chain.awaits) if (a.promise) promises.add(a.promise);
  for (const rec of pendingAwaitRecords()) {
    // an await inside an async function awaiting `new Promise(...)` is a link Node made in the same task
    if (chain.task ? rec.task === chain.task : onlyLooseChain && rec.task === undefined) {
      const p = awaitedPromise(rec);
      if (p) promises.add(p);
    }
  }
  for (const p of promises) out.push(...settleHints(p));
  const seen = new Set<string>();
  return out.filter((h) => {
    const k = `${h.event}|${h.emitterName}|${formatSite(h.site)}`;
    return !seen.has(k) && seen.add(k);
  });
}

function chainKey(chain: AwaitChain): string {
  return chain.awaits.map((a) => formatSite(a.site)).join(" > ");
}

/**
 * The stuck awaits now, as `never-settled` Diagnoses: one per distinct chain (tasks waiting in
 * the same chain grouped into one), each with its steps outermost first, the leaf await's site,
 * what could settle it, and (on a live loop) the handles that keep the loop alive.
 *
 * @example
 * ```ts
 * process.on("SIGHUP", () => {
 *   for (const d of stuckAwaitsReport("dump", { thresholdMs: 5_000 })) console.error(d.summary);
 * });
 * ```
 */
export function stuckAwaitsReport(reason: StuckReason, options: StuckAwaitsOptions = {}): Diagnosis[] {
  validateOneOf(reason, "reason", REASONS);
  validateObject(options, "options");
  if (options.thresholdMs !== undefined) validateTimeoutMs(options.thresholdMs, "options.thresholdMs", { allowZero: true });
  if (options.filter !== undefined && typeof options.filter !== "function") throw new InvalidArgTypeError("options.filter", "a function", options.filter);
  if (options.operation !== undefined && typeof options.operation !== "string")
    throw new InvalidArgTypeError("options.operation", "of type string", options.operation);
  if (!isTrackingPromises()) return [];
  const drained = reason === "drained";
  const threshold = options.thresholdMs ?? (drained || reason === "timeout" || reason === "test-timeout" ? 0 : stuckAfterMs);
  // validateObject narrowed options: the checked filter is the declared function type
  const filter = options.filter as ((a: PendingAwait) => boolean) | undefined;
  const awaits = pendingAwaits().filter((a) => a.forMs >= threshold && (!filter || filter(a)));
  if (awaits.length === 0) return [];
  const chains = builder(awaits).filter((c) => c.awaits.length > 0);
  // identical chains in several tasks: one finding naming them all
  const groups = new Map<string, AwaitChain[]>();
  for (const c of chains) {
    const k = chainKey(c);
    const list = groups.get(k) ?? [];
    list.push(c);
    groups.set(k, list);
  }
  const looseChains = chains.filter((c) => !c.task).length;
  const keepers = (options.handles ?? !drained) ? loopKeepers() : [];
  const keeperSubjects: Subject[] = keepers.slice(0, 12).map((k) => ({
    kind: "resource",
    name: k.name,
    role: "keeps the event loop alive",
    site: k.site,
    detail: k.why,
  }));
  const when = whenText(reason, options.operation);
  const out: Diagnosis[] = [];
  let index = 0;
  for (const group of groups.values()) {
    const chain = group[0]!;
    const leaf = chain.awaits[chain.awaits.length - 1]!;
    const fn = leaf.site?.functionName;
    const forMs = Math.max(...chain.awaits.map((a) => a.forMs));
    const tasks = group.map((c) => c.task).filter((t): t is TaskRecord => t !== undefined);
    const taskText =
      tasks.length === 0
        ? ""
        : tasks.length === 1
          ? ` (in task "${tasks[0]!.name}")`
          : ` (in ${tasks.length} tasks: ${tasks
              .slice(0, 5)
              .map((t) => `"${t.name}"`)
              .join(", ")}${tasks.length > 5 ? ", …" : ""})`;
    const who = `${fn ? `${fn}()` : "an async function"}`;
    const summary = drained
      ? `${who} awaits a promise that can never settle: ${when}${taskText}`
      : `${who} has been awaiting a promise for ${forMs} ms${taskText}; ${when}`;
    const steps: Step[] = chain.awaits.map((a, i) => ({
      text: `${a.site?.functionName ?? "<anonymous>"} ${i === chain.awaits.length - 1 ? "awaits the pending promise here" : "awaits the next step here"}`,
      site: a.site,
    }));
    const hints = hintsFor(chain, looseChains === 1);
    const subjects: Subject[] = [
      { kind: "promise", name: "the awaited promise", role: "awaited here", site: leaf.site, detail: `waiting ${leaf.forMs} ms` },
      // the outer awaits of the chain, by their lines (the text report shows them as its steps)
      ...chain.awaits
        .slice(0, -1)
        .map((a): Subject => ({ kind: "code", name: `${a.site?.functionName ?? "<anonymous>"}()`, role: "awaits the next step here", site: a.site })),
      ...tasks.slice(0, 5).map((t): Subject => ({ kind: "task", name: t.name, role: "waiting, spawned here", site: t.site })),
      ...hints.map(hintSubject),
      ...keeperSubjects,
    ];
    const missed = hints.find((h) => h.emittedBefore > 0 && h.stillListening !== false);
    out.push(
      createDiagnosis({
        rule: "never-settled",
        certainty: drained ? "proven" : "observed",
        summary: summary + (missed ? `; it waits for event "${missed.event}", which was emitted before the listener was added` : ""),
        subjects,
        steps: steps.length > 1 ? steps : undefined,
        site: leaf.site,
        fix: missed
          ? `listen for "${missed.event}" before it can be emitted (add the listener first, or check a ready flag), or race the wait against withTimeout()`
          : "resolve or reject the promise on every path (a missing resolve() call, an event that never fires, a callback never called), or race it against a timeout with withTimeout()",
        data: { reason, count: group.length, forMs, index: index++, handles: keepers.length },
      }),
    );
  }
  return out;
}

/**
 * `never-settled` Diagnoses for the awaits still pending once the event loop is empty (the
 * stuck-awaits report, proven).
 */
export function neverSettledDiagnoses(): Diagnosis[] {
  return stuckAwaitsReport("drained");
}

/**
 * For withTimeout on expiry: the stuck awaits of the operation that timed out (the awaits made
 * in `task` or its subtasks, when given; else every pending await), whatever their age.
 *
 * @example
 * ```ts
 * // in with-timeout.ts, when the limit expires:
 * const stuck = timeoutStuckAwaits("load-orders", scopeTask);
 * ```
 */
export function timeoutStuckAwaits(operation: string, task?: TaskRecord): Diagnosis[] {
  if (typeof operation !== "string") throw new InvalidArgTypeError("operation", "of type string", operation);
  return stuckAwaitsReport("timeout", {
    operation,
    handles: false,
    filter: task ? (a) => a.task !== undefined && a.task.isWithin(task) : undefined,
  });
}

let watchdog: { stop: () => void } | undefined;

/**
 * The `run --stuck-after <ms>` watchdog: checks the pending awaits now and then, and reports
 * (once each) the chains of those pending longer than `ms`, as observed `never-settled`
 * findings. The program goes on. Returns a function that stops it.
 *
 * @example
 * ```ts
 * const stop = startStuckWatchdog(30_000);
 * ```
 */
export function startStuckWatchdog(ms: number): () => void {
  validateTimeoutMs(ms, "ms");
  watchdog?.stop();
  const reported = new WeakSet<Promise<unknown>>();
  const check = () => {
    const fresh = pendingAwaits().some((a) => a.forMs >= ms && a.promise !== undefined && !reported.has(a.promise));
    if (!fresh) return;
    const found = stuckAwaitsReport("watchdog", { thresholdMs: ms });
    let header = false;
    for (const d of found) {
      const sitesNew = pendingAwaits().some((a) => a.forMs >= ms && a.promise && !reported.has(a.promise) && formatSite(a.site) === formatSite(d.site));
      if (!sitesNew) continue;
      if (!header) {
        process.stderr.write(`\n[asyncdoctor] stuck awaits (pending over ${ms} ms), at ${Math.round(performance.now())} ms:\n`);
        header = true;
      }
      report(d);
    }
    for (const a of pendingAwaits()) if (a.forMs >= ms && a.promise) reported.add(a.promise);
  };
  const timer = setInterval(check, Math.max(10, Math.min(1000, Math.floor(ms / 2))));
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    if (watchdog?.stop === stop) watchdog = undefined;
  };
  watchdog = { stop };
  return stop;
}
