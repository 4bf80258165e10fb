/**
 * diagnostics_channel channels, so APM tools can observe asyncdoctor without wrapping it.
 * Publishing is skipped when nobody subscribes (`hasSubscribers` is a field read).
 */
import diagnosticsChannel from "node:diagnostics_channel";
import type { Site } from "./site.js";
import type { TaskRecord, TaskState, WaitTarget } from "./task.js";

/** The channel names, stable across versions. */
export const channelNames = {
  taskSpawn: "asyncdoctor:task:spawn",
  taskSettle: "asyncdoctor:task:settle",
  lockWait: "asyncdoctor:lock:wait",
  lockAcquire: "asyncdoctor:lock:acquire",
  lockRelease: "asyncdoctor:lock:release",
  lockAbandon: "asyncdoctor:lock:abandon",
  diagnosis: "asyncdoctor:diagnosis",
} as const;

/** The channel objects, one per name. */
export const channels = {
  taskSpawn: diagnosticsChannel.channel(channelNames.taskSpawn),
  taskSettle: diagnosticsChannel.channel(channelNames.taskSettle),
  lockWait: diagnosticsChannel.channel(channelNames.lockWait),
  lockAcquire: diagnosticsChannel.channel(channelNames.lockAcquire),
  lockRelease: diagnosticsChannel.channel(channelNames.lockRelease),
  lockAbandon: diagnosticsChannel.channel(channelNames.lockAbandon),
  diagnosis: diagnosticsChannel.channel(channelNames.diagnosis),
};

// The message each channel carries. Publishers pass live objects (the TaskRecord, the
// primitive itself) so subscribers can read what they need without a copy on the hot path.

/** `asyncdoctor:task:spawn`: a tracked task started. */
export interface TaskSpawnMessage {
  readonly task: TaskRecord;
}

/** `asyncdoctor:task:settle`: a tracked task ended. */
export interface TaskSettleMessage {
  readonly task: TaskRecord;
  readonly state: TaskState;
  /** The rejection reason, for `rejected` and `cancelled`. */
  readonly error: unknown;
}

/**
 * `asyncdoctor:lock:wait`, `asyncdoctor:lock:acquire`, `asyncdoctor:lock:release`: a task
 * started waiting on a primitive, got it, or let it go. `asyncdoctor:lock:abandon` (a
 * {@link LockAbandonMessage}): a waiter left without it.
 */
export interface LockEventMessage {
  /** The primitive: its `name`, `kind` ("mutex", "semaphore", "rwlock", "pool") and construction site. */
  readonly lock: WaitTarget;
  /** The task doing it, when known (undefined for a bare acquire outside every task). */
  readonly task: TaskRecord | undefined;
  /** Permits wanted or held (1 for a mutex). */
  readonly permits?: number | undefined;
  /** For an RWLock: "read" or "write". */
  readonly mode?: "read" | "write" | undefined;
  /** Where it happened, when captured. */
  readonly site?: Site | undefined;
  /** For a release: how long it was held, in ms. */
  readonly heldMs?: number | undefined;
  /** For an acquire: how long it waited, in ms (0 when granted at once). */
  readonly waitedMs?: number | undefined;
}

/** Why a waiter left the queue without the primitive. */
export type AbandonReason = "timeout" | "abort" | "cancel";

/** `asyncdoctor:lock:abandon`: a waiter gave up (timed out, aborted) or was cancelled. */
export interface LockAbandonMessage extends LockEventMessage {
  readonly reason: AbandonReason;
  /** How long it waited, in ms. */
  readonly waitedMs: number;
}
