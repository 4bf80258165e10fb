/**
 * asyncdoctor: primitives that cannot deadlock silently, tasks that cannot fail silently, and
 * the reports that name the task, the lock, the line and the fix.
 */
import { setDefaultSink } from "./core/diagnosis.js";
import { isDebug, onConfigChange } from "./core/config.js";
import { renderText } from "./report/text.js";
import { installGuards } from "./tasks/guards.js";

setDefaultSink((d) => {
  process.stderr.write(`\n[asyncdoctor] ${renderText(d)}`);
});

// Debug mode reports unhandled rejections with the task that created the promise.
if (isDebug()) installGuards();
onConfigChange((c) => {
  if (c.mode === "debug") installGuards();
});

export { configure, getConfig, isDebug } from "./core/config.js";
export type { Config, Mode, LockOrderPolicy } from "./core/config.js";
export { report, createDiagnosis, addCollector } from "./core/diagnosis.js";
export type { Diagnosis, DiagnosisInit, Certainty, RuntimeRule, Subject, SubjectKind, Step } from "./core/diagnosis.js";
export { AsyncDoctorError, DeadlockError, TimeoutError, ClosedError, AbortError } from "./core/errors.js";
export type { DeadlockKind } from "./core/errors.js";
export { currentTask, TaskRecord } from "./core/task.js";
export type { TaskState, TaskKind, WaitTarget, WaitInfo, HolderInfo, HeldEntry } from "./core/task.js";
export { snapshot } from "./core/registry.js";
export type { Snapshot, TaskSnapshot, LockSnapshot, LockPartySnapshot, ResourceSnapshot } from "./core/registry.js";
export { channelNames } from "./core/channels.js";
export type { Site } from "./core/site.js";
export { formatSite } from "./core/site.js";
export { renderText, ruleTitle } from "./report/text.js";
export type { TextOptions } from "./report/text.js";
export { renderJson } from "./report/json.js";
export type { JsonReport } from "./report/json.js";
export { renderSarif } from "./report/sarif.js";
export type { SarifOptions, SarifRule } from "./report/sarif.js";
export { Task } from "./tasks/task.js";
export type { Spawnable, SpawnOptions } from "./tasks/task.js";
export { TaskTracker, ShutdownError, ShutdownAbort } from "./tasks/task-tracker.js";
export type { TaskTrackerOptions, WaitAllOptions, ShutdownOptions } from "./tasks/task-tracker.js";
export type { TaskStats, TrackerReport } from "./tasks/tracker-report.js";
export { TaskGroup, TaskGroupError, GroupAbort } from "./tasks/task-group.js";
export type { TaskGroupOptions, TaskFailure } from "./tasks/task-group.js";
export { withTimeout, currentDeadline } from "./tasks/with-timeout.js";
export type { WithTimeoutOptions, Deadline } from "./tasks/with-timeout.js";
export { spawn, defaultTracker } from "./tasks/default-tracker.js";
export { installGuards } from "./tasks/guards.js";
export type { GuardOptions } from "./tasks/guards.js";
