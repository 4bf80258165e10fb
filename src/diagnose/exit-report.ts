/**
 * The exit report: when the program ends (the loop drained, `process.exit()`, SIGINT or
 * SIGTERM), what was left unfinished — tracked tasks still pending, locks still held and their
 * waiters, resources never closed, and (debug mode) awaits that can never settle.
 *
 * Certainty follows what is known at that moment: when the loop has drained (`beforeExit`)
 * nothing can run any more, so a pending task or await is *proven* stuck; at `exit()` or a
 * signal, work was *observed* cut off.
 */
import { writeFileSync } from "node:fs";
import { createDiagnosis, addCollector, report } from "../core/diagnosis.js";
import type { Diagnosis, Subject } from "../core/diagnosis.js";
import { claimExitReport, pendingTasks, snapshot } from "../core/registry.js";
import type { LockSnapshot } from "../core/registry.js";
import { InvalidArgTypeError, validateObject } from "../core/validate.js";
import { renderJson } from "../report/json.js";
import { renderHtml } from "../report/html/page.js";
import { TimelineRecorder } from "./timeline.js";
import { leakedTaskDiagnosis } from "../tasks/tracker-report.js";
import { isTrackingPromises, pendingAwaits } from "./promise-tracking.js";
import { leakedResourceDiagnosis, openResources } from "./resources.js";
import { checkRuleIds } from "./rule-ids.js";
import { stuckAwaitsReport } from "./stuck-awaits.js";
import { isExcusedFromExitReport } from "../tasks/default-tracker.js";
import { drainActions } from "../sync/drain.js";
import { droppedPromiseFindings } from "./dropped-promises.js";

/** Why the program is ending. */
export type ExitReason = "drained" | "exit" | "SIGINT" | "SIGTERM";

/** Options of {@link installExitReport}. */
export interface ExitReportOptions {
  /** Rule ids that make the exit code non-zero when any Diagnosis of the run has one ("all" for any). */
  failOn?: readonly string[];
  /**
   * Write every Diagnosis of the run to this file: JSON, or — for a name ending in `.html` —
   * one self-contained page with the wait-for graph, the task tree and a timeline of the run.
   */
  reportFile?: string;
}

let installed: (() => void) | undefined;

/**
 * Collects the exit findings now: pending tasks, held locks, open resources and (when promise
 * tracking is on and the loop drained) awaits that can never settle. Does not report them.
 *
 * @example
 * ```ts
 * process.on("SIGHUP", () => console.error(exitFindings("exit").map((d) => d.summary)));
 * ```
 */
export function exitFindings(reason: ExitReason): Diagnosis[] {
  const validReasons: readonly ExitReason[] = ["drained", "exit", "SIGINT", "SIGTERM"];
  if (!validReasons.includes(reason)) throw new InvalidArgTypeError("reason", `one of ${validReasons.join(", ")}`, reason);
  const drained = reason === "drained";
  const when = drained
    ? "when the event loop drained: nothing is left that could finish it"
    : reason === "exit"
      ? "when the process exited; its work was cut off"
      : `when the process received ${reason}; its work was cut off`;
  const out: Diagnosis[] = [];
  for (const t of pendingTasks()) {
    // allow-listed by a test helper as meant to outlive its test: reported there as allowed, not again here
    if (isExcusedFromExitReport(t)) continue;
    const d = leakedTaskDiagnosis(
      t,
      when,
      drained
        ? "find what the task awaits and make sure it settles (the await listed below, or the lock it waits on)"
        : "await the task (or its tracker's shutdown({ timeout })) before exiting, or handle the signal by shutting down the tracker first",
    );
    // what the task awaits, when debug mode saw the await (its own or a child's)
    const awaits = isTrackingPromises() ? pendingAwaits().filter((a) => a.task !== undefined && a.task.isWithin(t)) : [];
    const seen = new Set<string>();
    const waits: Subject[] = awaits
      .filter((a) => {
        const key = `${a.site?.file}:${a.site?.line}:${a.site?.column}`;
        return !seen.has(key) && seen.add(key);
      })
      .map((a) => ({
        kind: "promise",
        name: `await in ${a.site?.functionName ?? "<anonymous>"}`,
        role: "waiting at",
        site: a.site,
        detail: `for ${a.forMs} ms`,
      }));
    out.push({ ...d, certainty: drained ? "proven" : d.certainty, subjects: [...d.subjects, ...waits] });
  }
  for (const lock of snapshot().locks) {
    if (lock.holders.length === 0 && lock.waiters.length === 0) continue;
    out.push(lockHeldDiagnosis(lock, when, drained));
  }
  for (const r of openResources()) out.push(leakedResourceDiagnosis(r, "observed", drained ? "before the program ended" : when));
  // proven when drained; at exit() or a signal, the awaits pending past the threshold, observed
  out.push(...stuckAwaitsReport(reason));
  // promises the code dropped that were still pending when their caller returned, or now
  out.push(...droppedPromiseFindings(reason));
  return out;
}

/** A lock still held (or waited for) when the program ended. */
export function lockHeldDiagnosis(lock: LockSnapshot, when: string, drained: boolean, rule = "leaked-lock"): Diagnosis {
  const subjects: Subject[] = [{ kind: "lock", name: lock.name, role: `${lock.kind} created here`, site: lock.site }];
  for (const h of lock.holders) {
    subjects.push({ kind: "task", name: h.taskName ?? "<unknown task>", role: "holder, acquired here", site: h.site, detail: `held for ${h.forMs} ms` });
  }
  for (const w of lock.waiters) {
    subjects.push({ kind: "task", name: w.taskName ?? "<unknown task>", role: "waiter, waiting here", site: w.site, detail: `waiting for ${w.forMs} ms` });
  }
  const holders = lock.holders.map((h) => `"${h.taskName ?? "<unknown task>"}"`).join(", ");
  return createDiagnosis({
    rule,
    certainty: drained && lock.waiters.length > 0 ? "proven" : "observed",
    summary:
      `${lock.kind} "${lock.name}" was still ${lock.holders.length > 0 ? `held by ${holders}` : "contended"} ${when}` +
      (lock.waiters.length > 0 ? `, with ${lock.waiters.length} waiter(s) that never got it` : ""),
    subjects,
    site: lock.holders[0]?.site ?? lock.site,
    fix: "release on every path: prefer runExclusive()/use() (released even on error) over acquire()/release(), and make sure the holder's work can finish",
    data: { holders: lock.holders.length, waiters: lock.waiters.length },
  });
}

/**
 * Reports {@link exitFindings} when the program ends: after the loop drained (`beforeExit`),
 * on `process.exit()`, and on SIGINT/SIGTERM (then the signal's default behaviour goes on).
 * Debug mode (`asyncdoctor run`, `--import asyncdoctor/register`) installs it. Returns a
 * function that uninstalls it.
 *
 * @example
 * ```ts
 * installExitReport({ failOn: ["leaked-task", "never-settled"], reportFile: "asyncdoctor.json" });
 * ```
 */
export function installExitReport(options: ExitReportOptions = {}): () => void {
  // checked as given (it may not be what the type says), without narrowing the typed value
  const given: unknown = options;
  validateObject(given, "options");
  if (options.failOn !== undefined && !(Array.isArray(options.failOn) && options.failOn.every((r) => typeof r === "string"))) {
    throw new InvalidArgTypeError("options.failOn", "an array of rule ids", options.failOn);
  }
  if (options.failOn !== undefined) checkRuleIds(options.failOn, "options.failOn");
  if (options.reportFile !== undefined && typeof options.reportFile !== "string") {
    throw new InvalidArgTypeError("options.reportFile", "of type string", options.reportFile);
  }
  if (installed) installed();
  claimExitReport("diagnose/exit-report");
  const all: Diagnosis[] = [];
  const stopCollecting = addCollector((d) => all.push(d));
  const html = options.reportFile !== undefined && /\.html?$/i.test(options.reportFile);
  // the HTML report draws the run's acquires and waits: record them from now on
  const timeline = html ? new TimelineRecorder().start() : undefined;
  let done = false;
  const failOn = new Set(options.failOn ?? []);

  const finish = (reason: ExitReason) => {
    if (done) return;
    done = true;
    const found = exitFindings(reason);
    if (found.length > 0) {
      process.stderr.write(`\n[asyncdoctor] exit report (${reason === "drained" ? "the event loop drained" : reason}): ${found.length} finding(s)\n`);
    }
    for (const d of found) report(d);
    if (options.reportFile) {
      try {
        writeFileSync(
          options.reportFile,
          html
            ? renderHtml({ diagnoses: all, snapshot: snapshot(), timeline: timeline?.events(), title: `asyncdoctor: ${process.argv.slice(1).join(" ")}` })
            : renderJson(all),
        );
      } catch (err) {
        process.stderr.write(`[asyncdoctor] could not write ${options.reportFile}: ${String(err)}\n`);
      }
    }
    const failing = all.filter((d) => failOn.has("all") || failOn.has(d.rule));
    if (failing.length > 0) {
      const rules = [...new Set(failing.map((d) => d.rule))].join(", ");
      process.stderr.write(`[asyncdoctor] failing: ${failing.length} finding(s) of --fail-on rules (${rules})\n`);
      if (!process.exitCode) process.exitCode = 1;
    }
  };
  let drainActionsSeen = drainActions();
  const onBeforeExit = () => {
    // a drain check (sync/drain.ts, run first) just rejected a stuck wait: the program runs on
    const n = drainActions();
    if (n !== drainActionsSeen) {
      drainActionsSeen = n;
      return;
    }
    finish("drained");
  };
  const onExit = () => finish("exit");
  const onSignal = (signal: NodeJS.Signals) => {
    finish(signal === "SIGINT" ? "SIGINT" : "SIGTERM");
    uninstall();
    // the signal's default (terminate) goes on, unless the program has its own handler
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.on("beforeExit", onBeforeExit);
  process.once("exit", onExit);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const uninstall = () => {
    process.off("beforeExit", onBeforeExit);
    process.off("exit", onExit);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    stopCollecting();
    timeline?.stop();
    if (installed === uninstall) installed = undefined;
  };
  installed = uninstall;
  return uninstall;
}
