/**
 * What a test left behind, as Diagnoses: tasks still pending, locks still held, timers still
 * scheduled, resources never closed; minus the allow-list of known background work.
 */
import { createDiagnosis } from "../core/diagnosis.js";
import type { Diagnosis } from "../core/diagnosis.js";
import { pendingTasks, snapshot } from "../core/registry.js";
import type { LockSnapshot } from "../core/registry.js";
import { formatSite } from "../core/site.js";
import { lockHeldDiagnosis } from "../diagnose/exit-report.js";
import { leakedResourceDiagnosis, openResources } from "../diagnose/resources.js";
import { excuseFromExitReport, isExcusedFromExitReport } from "../tasks/default-tracker.js";
import { leakedTaskDiagnosis } from "../tasks/tracker-report.js";
import { isTimerActive } from "./scope.js";
import type { LeakScope } from "./scope.js";

/** An allowed leftover: matched against the task, lock or resource name, or the timer's site. */
export type AllowEntry = string | RegExp;

/** What to check. */
export interface LeakCheckOptions {
  /** Known background work that may outlive a test: names (exact) or patterns. */
  allow?: readonly AllowEntry[];
  /** Check timers (default true). */
  timers?: boolean;
}

function allowed(allow: readonly AllowEntry[], ...texts: (string | undefined)[]): boolean {
  return allow.some((a) => texts.some((t) => t !== undefined && (typeof a === "string" ? t === a : a.test(t))));
}

/**
 * The leaks of one test. `when` says when they were looked at: at the end of the test (the
 * default), or mid-test by assertNoLeaks().
 */
export function scopeLeaks(scope: LeakScope, options: LeakCheckOptions = {}, when: "ended" | "asserted" = "ended"): Diagnosis[] {
  const allow = options.allow ?? [];
  const context = when === "ended" ? `when test "${scope.name}" ended` : `when assertNoLeaks() was called in test "${scope.name}"`;
  const out: Diagnosis[] = [];
  const taskIds = new Set<number>(scope.lockTaskIds);
  for (const [t, site] of scope.tasks) {
    taskIds.add(t.id);
    if (t.state !== "pending") continue;
    if (allowed(allow, t.name)) {
      // meant to outlive the test: not a leak at the process's exit either
      excuseFromExitReport(t);
      continue;
    }
    const d = leakedTaskDiagnosis(
      t,
      context,
      "await the task before the test ends (or shut its tracker down in afterEach); allow-list it if it is meant to outlive the test",
    );
    out.push(t.site ? d : { ...d, site, subjects: d.subjects.map((s) => (s.role === "spawned here" && !s.site ? { ...s, site } : s)) });
  }
  const locks = snapshot()["locks"];
  if (Array.isArray(locks)) {
    for (const lock of locks as LockSnapshot[]) {
      // a bare acquire() made outside every task has no task id: it is the test's when the test made it and did not release it
      const bare = (scope.bareHolds.get(lock.name) ?? 0) > 0 && lock.holders.some((h) => h.taskId === undefined);
      const mine = bare || lock.holders.some((h) => h.taskId !== undefined && taskIds.has(h.taskId));
      if (!mine || allowed(allow, lock.name)) continue;
      out.push(lockHeldDiagnosis(lock, context, false));
    }
  }
  for (const r of scope.resources) {
    if (r.closed || allowed(allow, r.name)) continue;
    out.push(leakedResourceDiagnosis(r, "observed", context));
  }
  if (options.timers ?? true) {
    for (const t of scope.timers.values()) {
      if (!isTimerActive(t) || allowed(allow, formatSite(t.site))) continue;
      const kind = t.repeat ? "setInterval" : "setTimeout";
      out.push(
        createDiagnosis({
          rule: "leaked-timer",
          certainty: "observed",
          summary: `a ${kind} timer created by test "${scope.name}" was still scheduled ${when === "ended" ? "when the test ended" : "when assertNoLeaks() was called"}`,
          subjects: [{ kind: "code", name: kind, role: "created here", site: t.site }],
          site: t.site,
          fix: `clear it (${t.repeat ? "clearInterval" : "clearTimeout"}) before the test ends, pass an AbortSignal, or unref() it if it is meant to outlive the test`,
        }),
      );
    }
  }
  return out;
}

/**
 * What the whole process has left running, for assertNoLeaks() outside a checked test (as
 * goleak's VerifyNone checks every goroutine): pending tracked tasks, held locks, open resources
 * (tracked ones, and in debug mode Node's own: sockets, servers, streams, ref'd intervals…).
 */
export function processLeaks(options: LeakCheckOptions = {}): Diagnosis[] {
  const allow = options.allow ?? [];
  const context = "when assertNoLeaks() checked the whole process";
  const out: Diagnosis[] = [];
  for (const t of pendingTasks()) {
    if (isExcusedFromExitReport(t)) continue;
    if (allowed(allow, t.name)) {
      excuseFromExitReport(t);
      continue;
    }
    out.push(leakedTaskDiagnosis(t, context, "await the task (or shut its tracker down) before this check; allow-list it if it is meant to keep running"));
  }
  const locks = snapshot()["locks"];
  if (Array.isArray(locks)) {
    for (const lock of locks as LockSnapshot[]) {
      if (lock.holders.length === 0 || allowed(allow, lock.name)) continue;
      out.push(lockHeldDiagnosis(lock, context, false));
    }
  }
  for (const r of openResources()) {
    if (allowed(allow, r.name, formatSite(r.site))) continue;
    out.push(leakedResourceDiagnosis(r, "observed", context));
  }
  return out;
}
