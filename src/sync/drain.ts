/**
 * The proof production mode can afford: when the event loop has drained (`beforeExit`),
 * nothing is left that could release a permit or settle a body, so every waiter still queued
 * can never be granted. The newest is rejected with a DeadlockError naming the primitive and
 * its holders (the one that closed the knot, most likely); its caller unwinds, which may
 * release what the others wait for. If the loop drains again, the next is judged the same way.
 * This turns the silent exit of a program whose last promise waits on a lock (p-limit#91)
 * into an error that names the limiter.
 *
 * A bare `acquire()` is never a party while the loop runs (anyone may release it), but at the
 * drain nobody can: a waiter asked for (or awaited) by the very async call that holds the lock,
 * while that call has not finished, is a re-entrant acquire (async-mutex#44: `await m.acquire()`
 * and then `return m.runExclusive(…)`).
 *
 * The check runs before the exit report (it is prepended to `beforeExit`), and says it acted
 * ({@link drainActions}): the rejection it made runs the program on, so the exit report waits
 * for the next drain (or the exit) and includes it.
 */
import { performance } from "node:perf_hooks";
import { inspect } from "node:util";
import { awaitGraphOn, awaitsThrough } from "../core/await-graph.js";
import type { Activation } from "../core/await-graph.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Diagnosis } from "../core/diagnosis.js";
import { DeadlockError } from "../core/errors.js";
import { processWide } from "../core/process-wide.js";
import { relativeFile } from "../core/site.js";
import { livePrimitives } from "./live-primitives.js";
import type { Lease } from "./lease.js";
import type { Waiter } from "./primitive.js";
import { holderSubjects, proveStuck, provenDiagnosis, suspectKnot } from "./wait-graph.js";
import { holderWaiting, taskLabel } from "./names.js";

const state = processWide("syncDrain", () => ({ installed: false, actions: 0 }));

/** Makes sure the drain check runs (called when an acquire first has to wait). */
export function watchDrain(): void {
  if (state.installed) return;
  state.installed = true;
  // before the exit report, which then waits for what this check sets going
  process.prependListener("beforeExit", onDrain);
}

/**
 * How many times a drain check rejected a stuck wait so far. The exit report compares it across
 * its `beforeExit`: a rejection made there runs the program on, so the loop has not drained yet.
 * Instrumentations with drain checks of their own count theirs with {@link noteDrainAction}.
 */
export function drainActions(): number {
  return state.actions;
}

/** Counts a stuck wait a drain check rejected (see {@link drainActions}). */
export function noteDrainAction(): void {
  state.actions++;
}

/** True while `p` is pending (read once, at the drain: util.inspect is the only way to ask). */
export function isPending(p: Promise<unknown>): boolean {
  return inspect(p, { depth: 0, customInspect: false }).includes("<pending>");
}

/**
 * At the drain: a bare hold of `w`'s primitive whose holder (the async call that acquired) has
 * not finished and either asked for `w` itself or awaits it through the await graph.
 */
export function selfRequestedHold(
  w: { readonly activation?: Activation | undefined; readonly promise?: unknown },
  holds: readonly Lease<unknown>[],
): { hold: Lease<unknown>; awaited: boolean } | undefined {
  for (const h of holds) {
    const holder = h.activation;
    if (h.scoped || holder === undefined || holder.promise === undefined || !isPending(holder.promise)) continue;
    const awaited = w.promise !== undefined && awaitsThrough(holder.promise, w.promise as object);
    if (awaited || w.activation === holder) return { hold: h, awaited };
  }
  return undefined;
}

/** The newest queued waiter in the process, if any. */
function newestWaiter(): Waiter | undefined {
  let newest: Waiter | undefined;
  for (const p of livePrimitives()) for (const w of p._queue) if (!w.done && (newest === undefined || w.since >= newest.since)) newest = w;
  return newest;
}

function onDrain(): void {
  const w = newestWaiter();
  if (w === undefined) return;
  const d = drainDiagnosis(w);
  state.actions++;
  report(d, { thrown: true });
  w.prim._reject(
    w,
    new DeadlockError(
      d.rule === "deadlock-reentrant" ? "reentrant" : d.rule === "pool-exhaustion" ? "pool-exhaustion" : d.rule === "leaked-lock" ? "leaked" : "cycle",
      d,
    ),
    "deadlock",
  );
}

/** Why `w` can never be granted now that the loop is empty: the proof's words when the graph knows, else the contexts'. */
export function drainDiagnosis(w: Waiter): Diagnosis {
  const knot = awaitGraphOn() ? proveStuckIgnoringLimits(w) : undefined;
  if (knot !== undefined) return provenDiagnosis(w, knot);
  const p = w.prim;
  const self = awaitGraphOn() ? selfRequestedHold(w, p._holds) : undefined;
  if (self !== undefined)
    return bareReentrantDiagnosis(
      p,
      self.hold,
      w.site,
      self.awaited ? "asks for it again and awaits it" : "asks for it again",
      "that request can never be granted",
      self.awaited,
    );
  const suspicion = suspectKnot(w);
  const holders = p._holds.map((h) => `"${taskLabel(h.task, h)}" (${Math.round(performance.now() - h.since)} ms${holderWaiting(h.task)})`).join(", ");
  const waited = Math.round(performance.now() - w.since);
  return createDiagnosis({
    // no knot is known: what is a fact is that the lock is still held and nothing is left to release it
    rule: suspicion?.rule ?? "leaked-lock",
    certainty: "proven",
    summary:
      `task "${taskLabel(w.task, w)}" waits for ${p.kind} "${p.name}" for ever: the event loop is empty, so nothing can release it` +
      (holders ? `; it is held by ${holders}` : "") +
      (suspicion ? `; ${suspicion.summary}` : ""),
    subjects: [
      { kind: "task", name: taskLabel(w.task, w), role: `waits for ${p.kind} "${p.name}" here`, site: w.site, detail: `for ${waited} ms` },
      { kind: "lock", name: p.name, role: p.kind, site: p.site },
      ...holderSubjects(p),
    ],
    steps: suspicion?.steps,
    site: w.site,
    fix:
      suspicion?.fix ??
      `release ${p.kind} "${p.name}" on every path (a finally, or runExclusive/use instead of a bare acquire), or find what its holder waits for`,
    data: { waitedMs: waited, atDrain: true },
  });
}

/**
 * The drain's re-entrant acquire on a bare hold: `hold`'s holder asked for (or waits until) the
 * lock it holds and never released, and the loop is empty. Shared with the instrumentations
 * (async-mutex's waitForUnlock inside its own hold). `what` continues "the holder …" ("asks for
 * it again"); `outcome` says why that can never end; `awaited`, whether the holder awaits it (the
 * await graph) rather than only having asked.
 */
export function bareReentrantDiagnosis(
  p: { readonly kind: string; readonly name: string; readonly site: Waiter["site"] },
  hold: Lease<unknown>,
  site: Waiter["site"],
  what: string,
  outcome: string,
  awaited = true,
): Diagnosis {
  const holder = taskLabel(hold.task, hold);
  const at = site ? ` at ${relativeFile(site.file)}:${site.line}` : "";
  return createDiagnosis({
    rule: "deadlock-reentrant",
    certainty: "proven",
    summary: `task "${holder}" holds ${p.kind} "${p.name}" (a bare acquire() it never released) and ${what}${at} before finishing: the event loop is empty, so ${outcome}${awaited ? ": it waits for itself for ever" : " (it holds the lock that request waits for)"}`,
    subjects: [
      {
        kind: "task",
        name: holder,
        role: `holds ${p.kind} "${p.name}", acquired here`,
        site: hold.site,
        detail: `for ${Math.round(performance.now() - hold.since)} ms`,
      },
      { kind: "task", name: holder, role: `asks for ${p.kind} "${p.name}" again here`, site },
      { kind: "lock", name: p.name, role: p.kind, site: p.site },
    ],
    steps: [
      { text: `task "${holder}" acquired ${p.kind} "${p.name}" and did not release it`, site: hold.site },
      { text: `still inside it, it ${what}: it waits for itself`, site },
    ],
    site,
    fix: `release ${p.kind} "${p.name}" before asking for it again (call the releaser, or use runExclusive() for the whole section), or pass the held lock down instead of taking it again`,
    data: { atDrain: true, bare: true },
  });
}

/** At the drain no timer can fire: a limit will not break anything, so the proof ignores limits. */
function proveStuckIgnoringLimits(w: Waiter) {
  return proveStuck(w, true);
}
