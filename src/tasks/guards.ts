/**
 * No silent failures: an unhandled rejection becomes an `unhandled-rejection` Diagnosis naming
 * the task in which the promise was created (when known), and then Node's own behaviour goes on.
 */
import { promiseHooks } from "node:v8";
import { inspect } from "node:util";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Subject } from "../core/diagnosis.js";
import { isDebug } from "../core/config.js";
import { formatSite, LazySite } from "../core/site.js";
import { currentTask } from "../core/task.js";
import type { TaskRecord } from "../core/task.js";
import { validateObject } from "../core/validate.js";
import { processWide } from "../core/process-wide.js";
import { errorSite } from "./task.js";
import { dropPhrase, dropRecordOf } from "../core/await-graph.js";

/** Options of {@link installGuards}. */
export interface GuardOptions {
  /**
   * Record, for every promise, the task that created it (v8 promise hooks: costs on every
   * promise, so on by default in debug mode only).
   */
  trackPromiseOrigins?: boolean;
}

interface Origin {
  readonly task: TaskRecord | undefined;
  readonly site: LazySite | undefined;
}

// one set of guards per process, even when both the ESM and the CommonJS build are loaded
const guards = processWide("guards", () => ({ installed: undefined as (() => void) | undefined }));

/**
 * Reports unhandled rejections as Diagnoses. Debug mode installs it. Afterwards Node's
 * configured behaviour continues (by default the process still fails): the report is added,
 * nothing is swallowed. Returns a function that uninstalls the guards.
 *
 * @example
 * ```ts
 * import { installGuards } from "asyncdoctor";
 * installGuards();
 * ```
 */
export function installGuards(options: GuardOptions = {}): () => void {
  validateObject(options, "options");
  if (guards.installed) return guards.installed;
  const origins = new WeakMap<Promise<unknown>, Origin>();
  let stopHook: (() => void) | undefined;
  if (options.trackPromiseOrigins ?? isDebug()) {
    const onInit = function promiseInit(promise: Promise<unknown>): void {
      origins.set(promise, { task: currentTask(), site: isDebug() ? new LazySite(promiseInit, 16) : undefined });
    };
    stopHook = promiseHooks.onInit(onInit) as () => void;
  }
  const onUnhandled = (reason: unknown, promise: Promise<unknown>) => {
    const origin = origins.get(promise);
    const task = origin?.task;
    const message = describeReason(reason);
    const thrownAt = errorSite(reason);
    const subjects: Subject[] = [];
    if (task) subjects.push({ kind: "task", name: task.name, role: "the promise was created in task", site: task.site });
    const createdAt = origin?.site?.site;
    if (createdAt) subjects.push({ kind: "promise", name: "the rejected promise", role: "created here", site: createdAt });
    if (thrownAt) subjects.push({ kind: "code", name: message, role: "rejected here", site: thrownAt });
    // debug mode's dropped-promise detector saw the code throw this promise away: name that line too
    const drop = dropRecordOf(promise);
    if (drop) {
      drop.reported = true;
      subjects.push({ kind: "code", name: drop.code, role: "dropped here", site: drop.site });
    }
    const dropped = drop ? `; it was dropped at ${formatSite(drop.site)} by ${dropPhrase(drop)}` : "";
    report(
      createDiagnosis({
        rule: "unhandled-rejection",
        certainty: "proven",
        summary: `a promise rejected with no handler${task ? ` in task "${task.name}"` : ""}: ${message}${dropped}`,
        subjects,
        site: createdAt ?? thrownAt,
        fix: "await the promise, return it to a caller that awaits it, or add .catch() where it is created; spawn background work on a TaskTracker so its failures are reported with the task's name",
        data: { error: message },
      }),
    );
    rethrowLikeNode(reason, onUnhandled);
  };
  process.on("unhandledRejection", onUnhandled);
  const uninstall = () => {
    process.off("unhandledRejection", onUnhandled);
    stopHook?.();
    if (guards.installed === uninstall) guards.installed = undefined;
  };
  guards.installed = uninstall;
  return uninstall;
}

/**
 * With a listener present Node no longer applies its default (throw). Keep the program's
 * behaviour: under the default or --unhandled-rejections=strict|throw, raise it as Node would.
 */
function rethrowLikeNode(reason: unknown, above: Function): void {
  const flag = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].find((a) => a.startsWith("--unhandled-rejections="))?.split("=")[1];
  const mode = flag ?? "throw";
  if (mode !== "throw" && mode !== "strict") return;
  if (process.listenerCount("unhandledRejection") > 1) return; // someone else decides
  // what Node itself throws: the reason when it is an Error, else ERR_UNHANDLED_REJECTION naming it
  const error = reason instanceof Error ? reason : unhandledRejectionError(reason, above);
  process.nextTick(() => {
    throw error;
  });
}

/** Node's own error for a rejection whose reason is not an Error (`Promise.reject(42)`). */
function unhandledRejectionError(reason: unknown, above: Function): Error {
  const err = new Error(
    "This error originated either by throwing inside of an async function without a catch block, " +
      `or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "${inspect(reason)}".`,
  ) as Error & { code: string };
  err.code = "ERR_UNHANDLED_REJECTION";
  // the stack starts where Node's would, not inside the guard
  Error.captureStackTrace(err, above);
  return err;
}

/** A reason as text, whatever it is: String() throws for an object without a prototype. */
function describeReason(reason: unknown): string {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  try {
    return typeof reason === "string" ? reason : inspect(reason, { depth: 1, breakLength: Infinity });
  } catch {
    return "<a value that cannot be shown>";
  }
}
