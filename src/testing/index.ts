/**
 * `asyncdoctor/testing`: leak checks for node:test, Vitest and Jest. Tasks, locks, timers and
 * resources a test leaves behind fail that test, attributed through AsyncLocalStorage to the
 * test that created them, even when tests run concurrently.
 */
import { renderText } from "../report/text.js";
import type { Diagnosis } from "../core/diagnosis.js";
import { InvalidArgTypeError, validateFunction, validateObject } from "../core/validate.js";
import { scopeLeaks } from "./leaks.js";
import type { AllowEntry, LeakCheckOptions } from "./leaks.js";
import { closeWindow, currentScope, LeakScope, openWindow, releaseScope, runInScope, startAttribution } from "./scope.js";

export type { AllowEntry, LeakCheckOptions } from "./leaks.js";

/** A test left work behind. `diagnoses` has one finding per leftover; `diagnosis` is the first. */
export class LeakError extends Error {
  readonly code = "ASYNCDOCTOR_LEAK";
  readonly diagnoses: readonly Diagnosis[];
  readonly diagnosis: Diagnosis;
  constructor(testName: string, diagnoses: readonly Diagnosis[]) {
    const body = diagnoses.map((d) => renderText(d, { color: false }).replace(/^/gm, "  ")).join("\n");
    super(`test "${testName}" leaked ${diagnoses.length} thing(s):\n\n${body}`);
    this.name = "LeakError";
    this.diagnoses = diagnoses;
    this.diagnosis = diagnoses[0]!;
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
  options: LeakCheckOptions & { name?: string } = {},
): (...args: A) => Promise<R> {
  validateFunction(fn, "fn");
  checkOptions(options);
  if (options.name !== undefined && typeof options.name !== "string") throw new InvalidArgTypeError("options.name", "of type string", options.name);
  startAttribution(); // stays on for the life of the test file: its tests may run at any time
  const name = options.name ?? (fn.name || `test#${++unnamed}`);
  // no declared parameters: Jest would take one as a done callback
  return async function leakChecked(...args: A): Promise<R> {
    const testName = options.name ?? testNameOf(args[0]) ?? name;
    const scope = new LeakScope(testName);
    let result: R;
    try {
      result = await runInScope(scope, () => fn(...args));
    } catch (err) {
      releaseScope(scope); // the test failed on its own: that is its report
      throw err;
    }
    await settle();
    const leaks = finish(scope, options);
    if (leaks.length > 0) throw new LeakError(testName, leaks);
    return result;
  };
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

/** Jest and Vitest expose the running test's name through `expect.getState()`. */
function currentTestName(): string | undefined {
  const e = (globalThis as { expect?: { getState?: () => { currentTestName?: unknown } } }).expect;
  const name = e?.getState?.().currentTestName;
  return typeof name === "string" ? name : undefined;
}

/**
 * Fails (throws a {@link LeakError}) when work created in the current test — or, outside any
 * checked test, in the current window — is still running. Call it at the end of a test body.
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
  if (!scope) {
    throw new Error("assertNoLeaks(): not inside a checked test; wrap the test with leakCheck(), or call setupLeakChecks() in the file");
  }
  await settle();
  const leaks = scopeLeaks(scope, options);
  if (leaks.length > 0) throw new LeakError(scope.name, leaks);
}
