/**
 * withTimeout: an operation with a time limit whose error says what it was waiting on and who
 * holds it — not "maybe a deadlock". Nested timeouts share one budget (a deadline scope).
 */
import { performance } from "node:perf_hooks";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Subject } from "../core/diagnosis.js";
import { TimeoutError } from "../core/errors.js";
import { pendingTasks } from "../core/registry.js";
import { captureSite } from "../core/site.js";
import { currentTask, runInTask, TaskRecord } from "../core/task.js";
import type { WaitInfo } from "../core/task.js";
import { isDebug } from "../core/config.js";
import { explainTimeout } from "../core/timeout-explainer.js";
import { InvalidArgTypeError, isThenable, validateObject, validateOptionalString, validateSignal, validateTimeoutMs } from "../core/validate.js";

/** Options of {@link withTimeout}. */
export interface WithTimeoutOptions {
  /** The operation's name, for the error and the report. */
  name?: string;
  /** An outside signal that also aborts the operation. */
  signal?: AbortSignal;
  /** Publish the `timeout` Diagnosis to onDiagnosis/stderr as well as throwing it (default false). */
  report?: boolean;
}

/**
 * Runs `op` with a time limit. `op` is a promise, or a function given an AbortSignal that
 * aborts when the time is up (pass it on to every await that can block). Inside another
 * withTimeout, the limit is the smaller of `ms` and what remains of the outer budget.
 *
 * @example
 * ```ts
 * const rows = await withTimeout((signal) => db.query(sql, { signal }), 500, { name: "load-orders" });
 * // on expiry: TimeoutError: operation "load-orders" did not finish within 500 ms;
 * //   it is waiting on mutex "orders-cache" held by task "refresh" (acquired at src/cache.ts:41:5)
 * ```
 */
export async function withTimeout<T>(
  op: PromiseLike<T> | ((signal: AbortSignal) => T | PromiseLike<T>),
  ms: number,
  options: WithTimeoutOptions = {},
): Promise<T> {
  if (typeof op !== "function" && !isThenable(op)) throw new InvalidArgTypeError("op", "a function or a promise", op);
  validateTimeoutMs(ms, "ms", { allowInfinity: true });
  validateObject(options, "options");
  validateOptionalString(options.name, "options.name");
  validateSignal(options.signal, "options.signal");

  const parent = currentTask();
  const start = performance.now();
  const outerDeadline = parent?.deadline;
  const ownDeadline = start + ms;
  const deadline = outerDeadline !== undefined && outerDeadline < ownDeadline ? outerDeadline : ownDeadline;
  const limitedByOuter = deadline !== ownDeadline;
  const name = options.name ?? (typeof op === "function" && op.name ? op.name : "operation");
  const scope = new TaskRecord(name, "scope", parent, isDebug() ? captureSite(withTimeout) : undefined);
  const controller = new AbortController();
  scope.deadline = deadline;
  scope.deadlineSignal = controller.signal;

  const outerSignals = [options.signal, parent?.deadlineSignal].filter((s): s is AbortSignal => s !== undefined);
  for (const s of outerSignals) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
  }
  if (controller.signal.aborted) throw controller.signal.reason;

  let started: PromiseLike<T> | T;
  if (typeof op === "function") {
    try {
      started = runInTask(scope, () => op(controller.signal));
    } catch (err) {
      return Promise.reject(err);
    }
  } else {
    started = op;
  }

  return new Promise<T>((resolve, reject) => {
    const remaining = deadline - start;
    let timer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      for (const s of outerSignals) s.removeEventListener("abort", onOuterAbort);
    };
    const onOuterAbort = (ev: Event) => {
      cleanup();
      const reason: unknown = (ev.target as AbortSignal).reason;
      controller.abort(reason);
      reject(reason);
    };
    for (const s of outerSignals) s.addEventListener("abort", onOuterAbort, { once: true });
    if (remaining !== Infinity) {
      timer = setTimeout(
        () => {
          cleanup();
          const elapsed = performance.now() - start;
          const err = timeoutError(scope, name, limitedByOuter ? Math.max(0, Math.round(deadline - start)) : ms, elapsed, limitedByOuter, parent);
          if (options.report) report(err.diagnosis);
          // the body may go on: it is no longer part of its caller; its queued acquires leave now
          scope.detached = true;
          controller.abort(err);
          reject(err);
        },
        Math.max(0, remaining),
      );
    }
    Promise.resolve(started).then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e: unknown) => {
        cleanup();
        reject(e);
      },
    );
  });
}

/** The first wait found in the scope's own task or in any task spawned beneath it. */
function findWait(scope: TaskRecord): { waiter: TaskRecord; wait: WaitInfo } | undefined {
  if (scope.waitingOn) return { waiter: scope, wait: scope.waitingOn };
  for (const t of pendingTasks()) {
    if (t.waitingOn && t.isWithin(scope)) return { waiter: t, wait: t.waitingOn };
  }
  return undefined;
}

function timeoutError(
  scope: TaskRecord,
  name: string,
  limitMs: number,
  elapsedMs: number,
  limitedByOuter: boolean,
  parent: TaskRecord | undefined,
): TimeoutError {
  const elapsed = Math.round(elapsedMs);
  const found = findWait(scope);
  const subjects: Subject[] = [{ kind: "task", name, role: "timed out", site: scope.site, detail: `ran ${elapsed} ms` }];
  let waiting = "";
  let fix = `find what "${name}" waits on (run with ASYNCDOCTOR=debug for sites), pass the AbortSignal to every await that can block, or raise the limit if the work is just slow`;
  if (found) {
    const { waiter, wait } = found;
    const holders = wait.target.holders();
    const waitedMs = Math.round(performance.now() - wait.since);
    subjects.push({ kind: "lock", name: wait.target.name, role: `waited on for ${waitedMs} ms by "${waiter.name}"`, site: wait.site ?? wait.target.site });
    const holderText = holders
      .map((h) => {
        subjects.push({
          kind: "task",
          name: h.task?.name ?? "<unknown task>",
          role: `holds ${wait.target.kind} "${wait.target.name}"`,
          site: h.site,
          detail: `for ${Math.round(performance.now() - h.since)} ms`,
        });
        return `task "${h.task?.name ?? "<unknown task>"}"`;
      })
      .join(", ");
    waiting = `; it is waiting on ${wait.target.kind} "${wait.target.name}"${holderText ? ` held by ${holderText}` : ""}`;
    const holderNames = holders.map((h) => `"${h.task?.name ?? "<unknown task>"}"`).join(", ");
    fix = holderNames
      ? `see why ${holderNames} keeps ${wait.target.kind} "${wait.target.name}" (is it waiting on "${name}" or on something "${name}" holds?); release it before slow work, or pass the held resource down`
      : fix;
  }
  const budget = limitedByOuter ? ` (the budget left by the enclosing "${parent?.name}" deadline)` : "";
  // debug mode: the awaits the operation is stuck in, as chains (the stuck-awaits report)
  const stuck = explainTimeout(name, scope);
  const steps = stuck.flatMap((d) => d.steps ?? (d.site ? [{ text: d.summary, site: d.site }] : []));
  const diagnosis = createDiagnosis({
    rule: "timeout",
    certainty: "observed",
    summary: `operation "${name}" did not finish within ${limitMs} ms${budget} (stopped after ${elapsed} ms)${waiting}`,
    subjects,
    steps: steps.length > 0 ? steps : undefined,
    site: scope.site,
    fix,
    data: { timeoutMs: limitMs, elapsedMs: elapsed, ...(stuck.length > 0 ? { stuckAwaits: stuck.map((d) => d.summary) } : {}) },
  });
  return new TimeoutError(name, limitMs, elapsed, diagnosis);
}

/** The deadline of the current scope, if any. */
export interface Deadline {
  /** Milliseconds left (may be 0). */
  readonly remainingMs: number;
  /** Aborts when the deadline passes: pass it to fetch, queries, acquires. */
  readonly signal: AbortSignal;
}

/**
 * The budget of the innermost enclosing withTimeout, for awaits that take a signal or a timeout.
 *
 * @example
 * ```ts
 * await withTimeout(async () => {
 *   await fetch(a, { signal: currentDeadline()?.signal });   // shares the 2 s budget
 *   await fetch(b, { signal: currentDeadline()?.signal });
 * }, 2_000, { name: "sync-profile" });
 * ```
 */
export function currentDeadline(): Deadline | undefined {
  const t = currentTask();
  if (!t || t.deadline === undefined || !t.deadlineSignal) return undefined;
  return { remainingMs: Math.max(0, t.deadline - performance.now()), signal: t.deadlineSignal };
}
