/**
 * Process-wide configuration: the mode and the knobs of the detectors.
 */
import type { Diagnosis } from "./diagnosis.js";
import { processWide } from "./process-wide.js";
import { validateFunction, validateOneOf, validateTimeoutMs } from "./validate.js";

/** `production` (cheap, on by default) or `debug` (stacks everywhere, promise tracking). */
export type Mode = "production" | "debug";

/** What to do when locks are taken in an order that contradicts an earlier one. */
export type LockOrderPolicy = "report" | "throw" | "off";

/** Every setting {@link configure} accepts. */
export interface Config {
  /** `production` by default; `debug` when `ASYNCDOCTOR=debug` is set. */
  mode: Mode;
  /** Receives every runtime {@link Diagnosis}; by default they are printed to stderr. */
  onDiagnosis: ((diagnosis: Diagnosis) => void) | undefined;
  /** Lock-order inversions: report them (default), throw at the acquire, or ignore them. */
  lockOrder: LockOrderPolicy;
  /** A waiter blocked longer than this (ms) is reported as `long-wait`. 0 turns it off. */
  longWaitMs: number;
  /** A synchronous stretch longer than this (ms) is reported as `loop-blocked` in debug mode. */
  loopBlockMs: number;
}

function modeFromEnv(): Mode {
  const v = process.env.ASYNCDOCTOR ?? "";
  return /(^|,)debug(,|$)/.test(v) ? "debug" : "production";
}

const state: Config = processWide<Config>("config", () => ({
  mode: modeFromEnv(),
  onDiagnosis: undefined,
  lockOrder: "report",
  longWaitMs: 10_000,
  loopBlockMs: 100,
}));

const listeners = processWide("configListeners", () => new Set<(config: Readonly<Config>) => void>());

/** The current configuration (read-only view). */
export function getConfig(): Readonly<Config> {
  return state;
}

/** True in debug mode. A property read: cheap enough for hot paths. */
export function isDebug(): boolean {
  return state.mode === "debug";
}

/**
 * Changes the process-wide settings; unknown keys are rejected.
 *
 * @example
 * ```ts
 * import { configure } from "asyncdoctor";
 * configure({ mode: "debug", onDiagnosis: (d) => log.warn(d.summary, d) });
 * ```
 */
export function configure(options: Partial<Config>): Readonly<Config> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`configure(options): expected an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(key in state)) {
      throw new TypeError(`configure(options): unknown option "${key}"; expected one of ${Object.keys(state).join(", ")}`);
    }
  }
  if (options.mode !== undefined) validateOneOf(options.mode, "options.mode", ["production", "debug"]);
  if (options.onDiagnosis !== undefined) validateFunction(options.onDiagnosis, "options.onDiagnosis");
  if (options.lockOrder !== undefined) validateOneOf(options.lockOrder, "options.lockOrder", ["report", "throw", "off"]);
  if (options.longWaitMs !== undefined) validateTimeoutMs(options.longWaitMs, "options.longWaitMs", { allowZero: true });
  if (options.loopBlockMs !== undefined) validateTimeoutMs(options.loopBlockMs, "options.loopBlockMs");
  Object.assign(state, options);
  if ("onDiagnosis" in options) state.onDiagnosis = options.onDiagnosis;
  for (const l of listeners) l(state);
  return state;
}

/** Lets a part of the library react to configuration changes (the debug-mode hooks). */
export function onConfigChange(listener: (config: Readonly<Config>) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function describeValue(v: unknown): string {
  return v === null ? "null" : typeof v;
}
