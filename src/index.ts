/**
 * asyncdoctor: primitives that cannot deadlock silently, tasks that cannot fail silently, and
 * the reports that name the task, the lock, the line and the fix.
 *
 * This entry is what a program uses. The building blocks underneath (reporting a Diagnosis of
 * your own, task records, the exit report's and promise tracking's parts) are in
 * `asyncdoctor/hooks`; leak checks for tests in `asyncdoctor/testing`.
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

// configuration
export { configure, getConfig, isDebug } from "./core/config.js";
export type { Config, Mode, LockOrderPolicy } from "./core/config.js";

// findings and errors
export type { Diagnosis, Certainty, RuntimeRule, Subject, SubjectKind, Step } from "./core/diagnosis.js";
export type { Site } from "./core/site.js";
export { AsyncDoctorError, DeadlockError, TimeoutError, ClosedError, AbortError, ReleaseError } from "./core/errors.js";
export type { AsyncDoctorErrorOptions, DeadlockKind } from "./core/errors.js";

// tasks
export { Task } from "./tasks/task.js";
export type { Spawnable, SpawnOptions } from "./tasks/task.js";
export type { TaskRecord, TaskState, TaskKind, WaitTarget } from "./core/task.js";
export { TaskTracker, ShutdownError } from "./tasks/task-tracker.js";
export type { TaskTrackerOptions, WaitAllOptions, ShutdownOptions } from "./tasks/task-tracker.js";
export type { TaskStats, TrackerReport } from "./tasks/tracker-report.js";
export { TaskGroup, TaskGroupError } from "./tasks/task-group.js";
export type { TaskGroupOptions, TaskFailure } from "./tasks/task-group.js";
export { withTimeout, currentDeadline } from "./tasks/with-timeout.js";
export type { WithTimeoutOptions, Deadline } from "./tasks/with-timeout.js";
export { spawn, defaultTracker } from "./tasks/default-tracker.js";

// locks, semaphores, pools and shared state
export { Mutex, Semaphore, RWLock, Pool, lockAll, LockSet, Lease } from "./sync/index.js";
export type { SemaphoreAcquireOptions, PoolOptions, PoolGuardOptions, Lockable, AcquireOptions, PrimitiveOptions } from "./sync/index.js";
export { Shared } from "./sync/shared.js";
export type { SharedOptions } from "./sync/shared.js";

// the runtime doctor
export { enableDebugMode } from "./diagnose/debug-mode.js";
export type { DebugModeOptions } from "./diagnose/debug-mode.js";
export { track, markClosed } from "./diagnose/resources.js";
export type { TrackOptions, Tracked, CloseHow } from "./diagnose/resources.js";
export { monitorLoopBlocking, loopDelay } from "./diagnose/loop-blocking.js";
export type { LoopBlockingOptions, LoopDelayStats } from "./diagnose/loop-blocking.js";
export { dump } from "./diagnose/dump.js";
export type { DumpOptions } from "./diagnose/dump.js";
export { snapshot } from "./core/registry.js";
export type { Snapshot, TaskSnapshot, LockSnapshot, LockPartySnapshot, ResourceSnapshot } from "./core/registry.js";
export { TimelineRecorder } from "./diagnose/timeline.js";
export type { TimelineEvent, TimelineEventKind, TimelineOptions } from "./diagnose/timeline.js";
export { channelNames } from "./core/channels.js";
export type { TaskSpawnMessage, TaskSettleMessage, LockEventMessage, LockAbandonMessage, AbandonReason } from "./core/channels.js";

// reports
export { renderText } from "./report/text.js";
export type { TextOptions } from "./report/text.js";
export { renderJson } from "./report/json.js";
export type { JsonReport } from "./report/json.js";
export { renderSarif } from "./report/sarif.js";
export type { SarifOptions, SarifRule } from "./report/sarif.js";
export { renderHtml } from "./report/html/page.js";
export type { HtmlReportInput } from "./report/html/page.js";

// integrations (each loads nothing until it is called)
export { enableOpenTelemetry } from "./integrations/opentelemetry.js";
export type { OpenTelemetryOptions, OpenTelemetryBridge } from "./integrations/opentelemetry.js";
// the stuck-awaits report (the async jstack): what every pending await waits on, and why
export { stuckAwaitsReport, setStuckThreshold, startStuckWatchdog } from "./diagnose/stuck-awaits.js";
export type { StuckReason, StuckAwaitsOptions, AwaitChain, ChainBuilder } from "./diagnose/stuck-awaits.js";
export { guardPool } from "./integrations/pg.js";
export type { GuardPoolOptions, GuardedPool, GuardedPoolExtras, PgPoolLike, PgClientLike, PgClientOf } from "./integrations/pg.js";
export { guardKnex } from "./integrations/knex.js";
export type { GuardKnexOptions, GuardedKnex, KnexLike, KnexClientLike } from "./integrations/knex.js";
export { installInstrumentations, instrumentableLibraries } from "./instrument/index.js";
export type { InstrumentationOptions, InstalledInstrumentations } from "./instrument/index.js";
