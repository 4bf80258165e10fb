/**
 * The long-wait watchdog: a waiter blocked longer than `longWaitMs` is reported with who holds
 * what it waits for, where they acquired it, since when, and what they wait on themselves; when
 * the wait ends, a second report retracts the first. One timer serves every primitive that has
 * a queue, and fires only when the oldest unreported wait is due; blocking costs nothing more
 * than adding the primitive to a set when its queue starts.
 */
import { performance } from "node:perf_hooks";
import { getConfig } from "../core/config.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Subject } from "../core/diagnosis.js";
import type { Primitive, Waiter } from "./primitive.js";
import { holderWaiting, taskLabel } from "./names.js";
import { suspectKnot } from "./wait-graph.js";

const watched = new Set<Primitive>();
let timer: NodeJS.Timeout | undefined;
let timerDue = Infinity;

/** Starts watching a primitive whose queue just became non-empty. */
export function watchWait(p: Primitive): void {
  const ms = getConfig().longWaitMs;
  if (ms === 0) return;
  watched.add(p);
  const first = p._queue[0];
  const due = (first?.since ?? performance.now()) + ms;
  if (due < timerDue) schedule(due);
}

/** Reports the end of a wait that was reported as long. */
export function retractLongWait(w: Waiter): void {
  report(retraction(w));
}

function schedule(due: number): void {
  if (timer !== undefined) clearTimeout(timer);
  timerDue = due;
  timer = setTimeout(sweep, Math.max(1, Math.ceil(due - performance.now())));
  timer.unref();
}

function sweep(): void {
  timer = undefined;
  timerDue = Infinity;
  const ms = getConfig().longWaitMs;
  if (ms === 0) return;
  const now = performance.now();
  let next = Infinity;
  for (const p of watched) {
    if (p._queue.length === 0) {
      watched.delete(p);
      continue;
    }
    for (const w of p._queue) {
      if (w.longWaitId !== undefined) continue;
      const due = w.since + ms;
      if (due <= now) {
        const d = report(longWait(w, now));
        w.longWaitId = d.id;
        w.longWaitRule = d.rule;
      } else if (due < next) next = due;
    }
  }
  if (next !== Infinity) schedule(next);
}

function longWait(w: Waiter, now: number) {
  const p = w.prim;
  const waited = Math.round(now - w.since);
  const knot = suspectKnot(w);
  const subjects: Subject[] = [
    { kind: "task", name: taskLabel(w.task, w), role: "waiter", site: w.site, detail: `waiting ${waited} ms` },
    { kind: "lock", name: p.name, role: p.kind, site: p.site },
  ];
  const holders = p._holds.map((h) => {
    const onto = h.task?.waitingOn;
    subjects.push({
      kind: "task",
      name: taskLabel(h.task, h),
      role: `holds ${p.kind} "${p.name}", acquired here`,
      site: h.site,
      detail: `since ${Math.round(now - h.since)} ms ago${holderWaiting(h.task)}`,
    });
    return `"${taskLabel(h.task, h)}" (for ${Math.round(now - h.since)} ms${onto ? `, itself waiting on ${onto.target.kind} "${onto.target.name}"` : ""})`;
  });
  const base = `task "${taskLabel(w.task, w)}" has waited ${waited} ms for ${p.kind} "${p.name}"${holders.length ? `, held by ${holders.join(", ")}` : ""}`;
  if (knot !== undefined) {
    // labelled for what it is: a suspicion from the contexts, not a proof (nothing is thrown)
    return createDiagnosis({
      rule: knot.rule,
      certainty: "potential",
      summary: `suspected deadlock: ${base}; ${knot.summary}. Not proven: nothing is thrown; it is proven when the event loop drains, or at once in debug mode (asyncdoctor run), which knows what each section awaits`,
      subjects,
      steps: knot.steps,
      site: w.site,
      fix: knot.fix,
      data: { waitedMs: waited, thresholdMs: getConfig().longWaitMs, waiting: p._queue.length, suspected: true },
    });
  }
  return createDiagnosis({
    rule: "long-wait",
    certainty: "observed",
    summary: base,
    subjects,
    site: w.site,
    fix: `find why the holder keeps ${p.kind} "${p.name}" so long: release it before slow work (I/O, timers), or give the acquire a timeout`,
    data: { waitedMs: waited, thresholdMs: getConfig().longWaitMs, waiting: p._queue.length },
  });
}

function retraction(w: Waiter) {
  const p = w.prim;
  const waited = Math.round(performance.now() - w.since);
  const suspected = w.longWaitRule !== undefined && w.longWaitRule !== "long-wait";
  return createDiagnosis({
    rule: w.longWaitRule ?? "long-wait",
    certainty: suspected ? "potential" : "observed",
    summary: `the wait of "${taskLabel(w.task, w)}" for ${p.kind} "${p.name}" ended after ${waited} ms${suspected ? ": the suspected deadlock resolved, it was not one" : ""}`,
    subjects: [{ kind: "task", name: taskLabel(w.task, w), role: "waiter", site: w.site }],
    site: w.site,
    retracts: w.longWaitId,
    fix: "nothing to do if this was expected; a repeated long wait points at work done while holding the lock",
    data: { waitedMs: waited },
  });
}
