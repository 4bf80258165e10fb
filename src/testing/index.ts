/**
 * `asyncdoctor/testing`: leak checks for node:test, Vitest and Jest. Tasks, locks, timers and
 * resources a test leaves behind fail that test, attributed through AsyncLocalStorage to the
 * test that created them, even when tests run concurrently.
 */
import { AsyncDoctorError } from "../core/errors.js";
import { renderText } from "../report/text.js";
import type { Diagnosis } from "../core/diagnosis.js";
import { InvalidArgTypeError, validateFunction, validateObject, validateTimeoutMs } from "../core/validate.js";
import { stuckAwaitsReport } from "../diagnose/stuck-awaits.js";
import { processLeaks, scopeLeaks } from "./leaks.js";
import type { AllowEntry, LeakCheckOptions } from "./leaks.js";
import { closeWindow, currentScope, LeakScope, openWindow, releaseScope, runInScope, startAttribution } from "./scope.js";

export type { AllowEntry, LeakCheckOptions } from "./leaks.js";

/** A test left work behind. `diagnoses` has one finding per leftover; `diagnosis` is the first. */
export class LeakError extends AsyncDoctorError {
  readonly diagnoses: readonly Diagnosis[];
  declare readonly diagnosis: Diagnosis;
  constructor(testName: string, diagnoses: readonly Diagnosis[]) {
    const body = diagnoses.map((d) => renderText(d, { color: false }).replace(/^/gm, "  ")).join("\n");
    super("ASYNCDOCTOR_LEAK", `test "${testName}" leaked ${diagnoses.length} thing(s):\n\n${body}`, { diagnosis: diagnoses[0] });
    this.diagnoses = diagnoses;
  }
}

function checkOptions(options: unknown): asserts options is LeakCheckOptions {
  validateObject(options, "options");
  const o = options as LeakCheckOptions;
  if (o.allow !== undefined) {
    if (!Array.isArray(o.allow)) throw new InvalidArgTypeError("options.allow", "an array of strings or RegExps", o.allow);
    o.allow.forEach((a: AllowEntry, i) => {
      if (typeof a !== "string" && !(a instanceof RegExp)) throw new InvalidArgTypeError(`options.allow[${i}]`, "a string or a RegExp", a);
    });
  }
  if (o.timers !== undefined && typeof o.timers !== "boolean") throw new InvalidArgTypeError("options.timers", "of type boolean", o.timers);
}

/** A wrapped test ran past its `timeout`: the message lists the awaits it was stuck in. */
export class TestTimeoutError extends Error {
  readonly code = "ASYNCDOCTOR_TEST_TIMEOUT";
  /** The stuck-awaits report of the test (may be empty: the test was busy, or awaited outside its scope). */
  readonly diagnoses: readonly Diagnosis[];
  constructor(testName: string, ms: number, diagnoses: readonly Diagnosis[]) {
    const body = diagnoses.map((d) => renderText(d, { color: false }).replace(/^/gm, "  ")).join("\n");
    super(
      `test "${testName}" did not finish within ${ms} ms` +
        (diagnoses.length > 0 ? `; it is stuck here:\n\n${body}` : "; no await of the test is pending (it may be busy, or waiting outside its own code)"),
    );
    this.name = "TestTimeoutError";
    this.diagnoses = diagnoses;
  }
}

/** The stuck awaits of one test, made in its own scope. */
function testStuckAwaits(scope: LeakScope): Diagnosis[] {
  return stuckAwaitsReport("test-timeout", { operation: scope.name, filter: (a) => a.context === scope });
}

/** A test context's AbortSignal (node:test and Vitest abort it when the test times out). */
function signalOf(ctx: unknown): AbortSignal | undefined {
  if (ctx === null || (typeof ctx !== "object" && typeof ctx !== "function")) return undefined;
  const s = (ctx as { signal?: unknown }).signal;
  return s instanceof AbortSignal ? s : undefined;
}

/** Lets work that finishes right after the test (a settled task's bookkeeping) complete first. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

function finish(scope: LeakScope, options: LeakCheckOptions): Diagnosis[] {
  const leaks = scopeLeaks(scope, options);
  releaseScope(scope);
  return leaks;
}

let unnamed = 0;

/**
 * Wraps a test function: it runs in its own scope, and whatever it leaves behind (tasks still
 * pending, locks held, timers scheduled, resources open) fails the test with a report naming
 * each leftover and where it was created. Works with node:test, Vitest and Jest, including
 * concurrent tests.
 *
 * @example
 * ```ts
 * import { test } from "node:test";
 * import { leakCheck } from "asyncdoctor/testing";
 * test("sends the welcome mail", leakCheck(async () => {
 *   await signUp(user);
 * }));
 * ```
 */
export function leakCheck<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>,
  options: LeakCheckOptions & { name?: string; timeout?: number } = {},
): (...args: A) => Promise<R> {
  validateFunction(fn, "fn");
  checkOptions(options);
  if (options.name !== undefined && typeof options.name !== "string") throw new InvalidArgTypeError("options.name", "of type string", options.name);
  if (options.timeout !== undefined) validateTimeoutMs(options.timeout, "options.timeout");
  startAttribution(); // stays on for the life of the test file: its tests may run at any time
  const fallback = options.name ?? (fn.name || undefined);
  // no declared parameters: Jest would take one as a done callback
  return async function leakChecked(...args: A): Promise<R> {
    // node:test and Vitest pass a context; Jest names the running test in expect.getState()
    const testName = options.name ?? testNameOf(args[0]) ?? currentTestName() ?? fallback ?? `test#${++unnamed}`;
    const scope = new LeakScope(testName);
    // when the runner times the test out, say where it was stuck (the runner reports the timeout itself)
    const signal = signalOf(args[0]);
    const onAbort = () => {
      const stuck = testStuckAwaits(scope);
      if (stuck.length > 0) process.stderr.write(new TestTimeoutError(testName, 0, stuck).message.replace(/ within 0 ms/, " in time") + "\n");
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    let result: R;
    try {
      const run = runInScope(scope, () => fn(...args));
      result = options.timeout === undefined ? await run : await withTestTimeout(Promise.resolve(run), options.timeout, scope);
    } catch (err) {
      releaseScope(scope); // the test failed on its own: that is its report
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    await settle();
    const leaks = finish(scope, options);
    if (leaks.length > 0) throw new LeakError(testName, leaks);
    return result;
  };
}

/** Races a test body against its own time limit; on expiry, a TestTimeoutError with its stuck awaits. */
function withTestTimeout<R>(run: Promise<R>, ms: number, scope: LeakScope): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TestTimeoutError(scope.name, ms, testStuckAwaits(scope))), ms);
    run.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** node:test passes a TestContext with `name`; Vitest a context (a function) with `task.name`. */
function testNameOf(ctx: unknown): string | undefined {
  if (ctx === null || (typeof ctx !== "object" && typeof ctx !== "function")) return undefined;
  const c = ctx as { name?: unknown; task?: { name?: unknown } };
  if (typeof c.task?.name === "string") return c.task.name;
  if (typeof ctx === "object" && typeof c.name === "string") return c.name;
  return undefined;
}

/** The hooks of a test runner that {@link setupLeakChecks} uses. */
export interface TestHooks {
  beforeEach(fn: (...args: never[]) => unknown): unknown;
  afterEach(fn: () => unknown): unknown;
}

/**
 * Per-test setup: checks every test of the file for leaks, failing in afterEach. Tests that are
 * not wrapped with {@link leakCheck} are attributed by time (what their code started between
 * beforeEach and afterEach), which is exact when tests run one at a time; wrap concurrent
 * tests with `leakCheck` for exact attribution.
 *
 * @example
 * ```ts
 * import { beforeEach, afterEach } from "vitest";
 * import { setupLeakChecks } from "asyncdoctor/testing";
 * setupLeakChecks({ beforeEach, afterEach }, { allow: ["metrics-flusher"] });
 * ```
 */
export function setupLeakChecks(hooks: TestHooks, options: LeakCheckOptions = {}): void {
  validateObject(hooks, "hooks");
  validateFunction(hooks.beforeEach, "hooks.beforeEach");
  validateFunction(hooks.afterEach, "hooks.afterEach");
  checkOptions(options);
  startAttribution();
  let scope: LeakScope | undefined;
  // a rest parameter: Jest reads a declared one as a done callback; node:test passes its context
  hooks.beforeEach((...args: unknown[]) => {
    scope = new LeakScope(testNameOf(args[0]) ?? currentTestName() ?? `test#${++unnamed}`);
    openWindow(scope);
  });
  hooks.afterEach(async () => {
    const s = scope;
    if (!s) return;
    scope = undefined;
    await settle();
    closeWindow(s);
    const leaks = finish(s, options);
    if (leaks.length > 0) throw new LeakError(s.name, leaks);
  });
}

/**
 * Jest and Vitest expose the running test's name through `expect.getState()`. For Jest's
 * concurrent tests `currentTestName` is the last one started; Jest 30 names the one running in
 * this async context with `currentConcurrentTestName()`.
 */
function currentTestName(): string | undefined {
  type State = { currentTestName?: unknown; currentConcurrentTestName?: unknown };
  const e = (globalThis as { expect?: { getState?: () => State } }).expect;
  const state = e?.getState?.();
  if (typeof state?.currentConcurrentTestName === "function") {
    const own: unknown = (state.currentConcurrentTestName as () => unknown)();
    if (typeof own === "string") return own;
  }
  const name = state?.currentTestName;
  return typeof name === "string" ? name : undefined;
}

/**
 * Fails (throws a {@link LeakError}) when work created in the current test (or the current
 * window of setupLeakChecks()) is still running. Outside any checked test it checks the whole
 * process instead, as goleak's `VerifyNone` does: every pending task, held lock and open
 * resource. Call it at the end of a test body.
 *
 * @example
 * ```ts
 * test("shutdown leaves nothing behind", leakCheck(async () => {
 *   await app.stop();
 *   await assertNoLeaks({ allow: [/^metrics-/] });
 * }));
 * ```
 */
export async function assertNoLeaks(options: LeakCheckOptions = {}): Promise<void> {
  checkOptions(options);
  const scope = currentScope();
  await settle();
  if (!scope) {
    // not inside a checked test: the whole process is checked, as goleak's VerifyNone does
    const leaks = processLeaks(options);
    if (leaks.length > 0) throw new LeakError(currentTestName() ?? "<whole process>", leaks);
    return;
  }
  const leaks = scopeLeaks(scope, options, "asserted");
  if (leaks.length > 0) throw new LeakError(scope.name, leaks);
}
