/**
 * `asyncdoctor/hooks`: the low-level parts under the root entry, for tools built on asyncdoctor
 * (a reporter of your own, a test-runner integration, a debugger view). A program needs only
 * `asyncdoctor`. Loading this entry loads the root entry too, so the default report sink and
 * debug mode's guards are set up the same way.
 *
 * @example
 * ```ts
 * import { addCollector, createDiagnosis, report } from "asyncdoctor/hooks";
 * const stop = addCollector((d) => myDashboard.send(d));
 * report(createDiagnosis({ rule: "task-failed", certainty: "observed", summary: "…", subjects: [], fix: "…" }));
 * stop();
 * ```
 */
import "./index.js";

// findings: make one, send it to the sinks, listen to all of them
export { report, createDiagnosis, addCollector } from "./core/diagnosis.js";
export type { DiagnosisInit } from "./core/diagnosis.js";
export { ruleTitle } from "./report/text.js";
export { formatSite } from "./core/site.js";

// task identity
export { currentTask, TaskRecord } from "./core/task.js";
export type { WaitInfo, HolderInfo, HeldEntry } from "./core/task.js";

// primitives
export { Primitive, lockSnapshot } from "./sync/index.js";

// what debug mode installs, one piece at a time
export { installGuards } from "./tasks/guards.js";
export type { GuardOptions } from "./tasks/guards.js";
export { installExitReport, exitFindings } from "./diagnose/exit-report.js";
export type { ExitReportOptions, ExitReason } from "./diagnose/exit-report.js";
export { trackPromises, pendingAwaits } from "./diagnose/promise-tracking.js";
export type { PendingAwait } from "./diagnose/promise-tracking.js";
export { installDebugReach } from "./diagnose/debug-reach.js";
export { installAwaitTransform } from "./diagnose/await-loader.js";

// the await graph: which async call awaits which promise (debug mode)
export { currentActivation, chainOf, startAwaitGraph, stopAwaitGraph } from "./core/await-graph.js";
export type { Activation, ChainLink } from "./core/await-graph.js";

// the live state as data, and as the text dump() prints
export { dumpState } from "./diagnose/dump.js";
export { renderStateText } from "./report/state-text.js";
export type { StateReport, WaitForEdge } from "./report/state-text.js";
