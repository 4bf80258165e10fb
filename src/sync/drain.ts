/**
 * The proof production mode can afford: when the event loop has drained (`beforeExit`),
 * nothing is left that could release a permit or settle a body, so every waiter still queued
 * can never be granted. The newest is rejected with a DeadlockError naming the primitive and
 * its holders (the one that closed the knot, most likely); its caller unwinds, which may
 * release what the others wait for. If the loop drains again, the next is judged the same way.
 * This turns the silent exit of a program whose last promise waits on a lock (p-limit#91)
 * into an error that names the limiter.
 */
import { performance } from "node:perf_hooks";
import { awaitGraphOn } from "../core/await-graph.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Diagnosis } from "../core/diagnosis.js";
import { DeadlockError } from "../core/errors.js";
import { processWide } from "../core/process-wide.js";
import { livePrimitives } from "./live-primitives.js";
import type { Waiter } from "./primitive.js";
import { holderSubjects, proveStuck, provenDiagnosis, suspectKnot } from "./wait-graph.js";
import { holderWaiting, taskLabel } from "./names.js";

const state = processWide("syncDrain", () => ({ installed: false }));

/** Makes sure the drain check runs (called when an acquire first has to wait). */
export function watchDrain(): void {
  if (state.installed) return;
  state.installed = true;
  process.on("beforeExit", onDrain);
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
  report(d, { thrown: true });
  w.prim._reject(
    w,
    new DeadlockError(d.rule === "deadlock-reentrant" ? "reentrant" : d.rule === "pool-exhaustion" ? "pool-exhaustion" : "cycle", d),
    "deadlock",
  );
}

/** Why `w` can never be granted now that the loop is empty: the proof's words when the graph knows, else the contexts'. */
export function drainDiagnosis(w: Waiter): Diagnosis {
  const knot = awaitGraphOn() ? proveStuckIgnoringLimits(w) : undefined;
  if (knot !== undefined) return provenDiagnosis(w, knot);
  const p = w.prim;
  const suspicion = suspectKnot(w);
  const holders = p._holds.map((h) => `"${taskLabel(h.task, h)}" (${Math.round(performance.now() - h.since)} ms${holderWaiting(h.task)})`).join(", ");
  const waited = Math.round(performance.now() - w.since);
  return createDiagnosis({
    rule: suspicion?.rule ?? "deadlock-cycle",
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

/** At the drain no timer can fire: a limit will not break anything, so the proof ignores limits. */
function proveStuckIgnoringLimits(w: Waiter) {
  return proveStuck(w, true);
}
