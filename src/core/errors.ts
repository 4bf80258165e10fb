/**
 * The error classes. Every error thrown for a finding carries its {@link Diagnosis} as
 * `.diagnosis`, and a stable `code` as Node's own errors do.
 */
import type { Diagnosis } from "./diagnosis.js";

/** Base class of asyncdoctor's errors that stand for a finding. */
export class AsyncDoctorError extends Error {
  /** Stable machine-readable code, e.g. `ASYNCDOCTOR_DEADLOCK`. */
  readonly code: string;
  /** The finding behind this error. */
  readonly diagnosis: Diagnosis;

  constructor(code: string, diagnosis: Diagnosis, message: string = diagnosis.summary, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.diagnosis = diagnosis;
    this.name = new.target.name;
  }
}

/** The kind of deadlock a {@link DeadlockError} reports. */
export type DeadlockKind = "reentrant" | "cycle" | "pool-exhaustion" | "lock-order";

/**
 * An acquire that would never complete was rejected instead of hanging.
 *
 * @example
 * ```ts
 * try { await lock.runExclusive(work); }
 * catch (e) { if (e instanceof DeadlockError) console.error(e.message); }
 * ```
 */
export class DeadlockError extends AsyncDoctorError {
  readonly kind: DeadlockKind;
  constructor(kind: DeadlockKind, diagnosis: Diagnosis, message?: string) {
    super("ASYNCDOCTOR_DEADLOCK", diagnosis, message);
    this.kind = kind;
  }
}

/** An operation ran past its time limit. `diagnosis` says what it was waiting on. */
export class TimeoutError extends AsyncDoctorError {
  /** The operation's name. */
  readonly operation: string;
  /** The limit, in milliseconds. */
  readonly timeoutMs: number;
  /** How long it ran before it was stopped. */
  readonly elapsedMs: number;
  constructor(operation: string, timeoutMs: number, elapsedMs: number, diagnosis: Diagnosis, message?: string) {
    super("ASYNCDOCTOR_TIMEOUT", diagnosis, message);
    this.operation = operation;
    this.timeoutMs = timeoutMs;
    this.elapsedMs = elapsedMs;
  }
}

/** Work was offered to a tracker or group that no longer accepts it. */
export class ClosedError extends Error {
  readonly code = "ASYNCDOCTOR_CLOSED";
  constructor(message: string) {
    super(message);
    this.name = "ClosedError";
  }
}

/** A wait was given up because its AbortSignal fired. */
export class AbortError extends Error {
  readonly code = "ABORT_ERR";
  constructor(message = "The operation was aborted", options?: ErrorOptions) {
    super(message, options);
    this.name = "AbortError";
  }
}
