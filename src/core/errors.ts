/**
 * The error family: every error asyncdoctor throws for its own reasons extends
 * {@link AsyncDoctorError} and has a stable `code`, as Node's own errors do. Errors thrown for a
 * finding carry its {@link Diagnosis} as `.diagnosis`. (Bad arguments are Node-style TypeErrors and
 * RangeErrors instead: see validate.ts.)
 */
import type { Diagnosis } from "./diagnosis.js";

/** What an {@link AsyncDoctorError} may carry besides its message. */
export interface AsyncDoctorErrorOptions extends ErrorOptions {
  /** The finding behind the error, when it stands for one. */
  readonly diagnosis?: Diagnosis;
}

/**
 * Base class of asyncdoctor's errors. Catch it to tell them from the program's own.
 *
 * @example
 * ```ts
 * try { await tracker.shutdown({ throwOnTimeout: true }); }
 * catch (e) { if (e instanceof AsyncDoctorError) console.error(e.code, e.diagnosis?.summary ?? e.message); }
 * ```
 */
export class AsyncDoctorError extends Error {
  /** Stable machine-readable code, e.g. `ASYNCDOCTOR_DEADLOCK`. */
  readonly code: string;
  /** The finding behind this error, when it stands for one. */
  readonly diagnosis: Diagnosis | undefined;

  constructor(code: string, message: string, options?: AsyncDoctorErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.diagnosis = options?.diagnosis;
    this.name = new.target.name;
  }
}

/**
 * The kind of deadlock a {@link DeadlockError} reports: why an acquire was rejected: it asked for what its task holds, closed a wait-for cycle, was one
 * of a pool's holders asking for more, inverted a lock order, or (`leaked`) waited, when the event
 * loop drained, for a lock whose holders had left it held with nothing left to release it.
 */
export type DeadlockKind = "reentrant" | "cycle" | "pool-exhaustion" | "lock-order" | "leaked";

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
  declare readonly diagnosis: Diagnosis;
  readonly kind: DeadlockKind;
  constructor(kind: DeadlockKind, diagnosis: Diagnosis, message: string = diagnosis.summary) {
    super("ASYNCDOCTOR_DEADLOCK", message, { diagnosis });
    this.kind = kind;
  }
}

/**
 * An operation ran past its time limit. `diagnosis` says what it was waiting on.
 *
 * @example
 * ```ts
 * try { await withTimeout(load, 500, { name: "load" }); }
 * catch (e) { if (e instanceof TimeoutError) console.error(e.operation, e.elapsedMs); }
 * ```
 */
export class TimeoutError extends AsyncDoctorError {
  declare readonly diagnosis: Diagnosis;
  /** The operation's name. */
  readonly operation: string;
  /** The limit, in milliseconds. */
  readonly timeoutMs: number;
  /** How long it ran before it was stopped. */
  readonly elapsedMs: number;
  constructor(operation: string, timeoutMs: number, elapsedMs: number, diagnosis: Diagnosis, message: string = diagnosis.summary) {
    super("ASYNCDOCTOR_TIMEOUT", message, { diagnosis });
    this.operation = operation;
    this.timeoutMs = timeoutMs;
    this.elapsedMs = elapsedMs;
  }
}

/**
 * Work was offered to a tracker or group that no longer accepts it.
 *
 * @example
 * ```ts
 * try { group.spawn(work); } catch (e) { if (e instanceof ClosedError) console.error(e.message); }
 * ```
 */
export class ClosedError extends AsyncDoctorError {
  constructor(message: string) {
    super("ASYNCDOCTOR_CLOSED", message);
  }
}

/**
 * The one abort error: a wait given up because its AbortSignal fired, and the reason a group
 * or tracker gives its tasks' signals when it aborts them. `name` is "AbortError" and `code`
 * "ABORT_ERR", as Node's own, so code that checks either keeps working.
 *
 * @example
 * ```ts
 * await assert.rejects(lock.acquire({ signal: AbortSignal.abort() }), AbortError);
 * ```
 */
export class AbortError extends AsyncDoctorError {
  constructor(message = "The operation was aborted", options?: ErrorOptions) {
    super("ABORT_ERR", message, options);
  }
}

/**
 * A lease was released a second time, or through a primitive it does not belong to.
 *
 * @example
 * ```ts
 * const lease = await mutex.acquire();
 * lease.release();
 * lease.release(); // ReleaseError: … was already released
 * ```
 */
export class ReleaseError extends AsyncDoctorError {
  constructor(message: string) {
    super("ASYNCDOCTOR_BAD_RELEASE", message);
  }
}
