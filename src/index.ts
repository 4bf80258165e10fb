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
export { renderHtml } from "./report/html.js";
export type { HtmlReportInput } from "./report/html.js";
export { TimelineRecorder } from "./diagnose/timeline.js";
export type { TimelineEvent, TimelineEventKind, TimelineOptions } from "./diagnose/timeline.js";
export type { TaskSpawnMessage, TaskSettleMessage, LockEventMessage, LockAbandonMessage, AbandonReason } from "./core/channels.js";
export { enableOpenTelemetry } from "./integrations/opentelemetry.js";
export type { OpenTelemetryOptions, OpenTelemetryBridge } from "./integrations/opentelemetry.js";
export { Shared } from "./sync/shared.js";
export type { SharedOptions } from "./sync/shared.js";
export { Mutex, Semaphore, RWLock, Pool, lockAll, LockSet, Lease, ReleaseError, Primitive, lockSnapshot } from "./sync/index.js";
export type { SemaphoreAcquireOptions, PoolOptions, PoolGuardOptions, Lockable, AcquireOptions, PrimitiveOptions } from "./sync/index.js";
export { track, markClosed } from "./diagnose/resources.js";
export type { TrackOptions, Tracked, CloseHow } from "./diagnose/resources.js";
export { installExitReport, exitFindings } from "./diagnose/exit-report.js";
export type { ExitReportOptions, ExitReason } from "./diagnose/exit-report.js";
export { dump, dumpState } from "./diagnose/dump.js";
export type { DumpOptions } from "./diagnose/dump.js";
export type { StateReport, WaitForEdge } from "./report/state-text.js";
export { renderStateText } from "./report/state-text.js";
export { monitorLoopBlocking, loopDelay } from "./diagnose/loop-blocking.js";
export type { LoopBlockingOptions, LoopDelayStats } from "./diagnose/loop-blocking.js";
export { trackPromises, pendingAwaits } from "./diagnose/promise-tracking.js";
export type { PendingAwait } from "./diagnose/promise-tracking.js";
export { enableDebugMode } from "./diagnose/debug-mode.js";
export type { DebugModeOptions } from "./diagnose/debug-mode.js";
export { guardPool } from "./integrations/pg.js";
export type { GuardPoolOptions, GuardedPool, GuardedPoolExtras, PgPoolLike, PgClientLike, PgClientOf } from "./integrations/pg.js";
export { guardKnex } from "./integrations/knex.js";
export type { GuardKnexOptions, GuardedKnex, KnexLike, KnexClientLike } from "./integrations/knex.js";
export { installInstrumentations, instrumentableLibraries } from "./instrument/index.js";
export type { InstrumentationOptions, InstalledInstrumentations } from "./instrument/index.js";
