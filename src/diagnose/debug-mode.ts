/**
 * Debug mode for a whole program: what `asyncdoctor run` and `--import asyncdoctor/register`
 * switch on.
 */
import { configure } from "../core/config.js";
import { validateObject } from "../core/validate.js";
import { installGuards } from "../tasks/guards.js";
import { dumpOnSignal } from "./dump.js";
import { installExitReport } from "./exit-report.js";
import type { ExitReportOptions } from "./exit-report.js";
import { monitorLoopBlocking } from "./loop-blocking.js";
import { trackPromises } from "./promise-tracking.js";
import { watchDroppedPromises } from "./dropped-promises.js";
import { installDebugReach } from "./debug-reach.js";
import { timeoutStuckAwaits } from "./stuck-awaits.js";
import { setTimeoutExplainer } from "../core/timeout-explainer.js";
import { installInstrumentations } from "../instrument/index.js";

/** Instruments the libraries at load; an import hook that cannot be installed is not fatal. */
function instrumentations(): () => void {
  const installed = installInstrumentations();
  return () => installed.uninstall();
}

/** Options of {@link enableDebugMode}. */
export interface DebugModeOptions extends ExitReportOptions {
  /** Report event-loop blocks longer than this (ms); default 100. */
  loopBlockMs?: number;
}

let disable: (() => void) | undefined;

/**
 * Turns on debug mode for the whole program: creation sites everywhere, unhandled rejections
 * with their task, promise tracking (awaits that can never settle), event-loop blocking with
 * the task that blocked, the exit report, and a state dump on SIGUSR2. Returns a function that
 * turns the watchers off again.
 *
 * @example
 * ```ts
 * import { enableDebugMode } from "asyncdoctor";
 * if (process.env.NODE_ENV !== "production") enableDebugMode({ failOn: ["leaked-task"] });
 * ```
 */
export function enableDebugMode(options: DebugModeOptions = {}): () => void {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- validateObject narrows what it checks: keep the declared type
  validateObject(options as unknown, "options");
  disable?.();
  const { loopBlockMs, ...exitOptions } = options;
  configure(loopBlockMs === undefined ? { mode: "debug" } : { mode: "debug", loopBlockMs });
  const explainer = setTimeoutExplainer((operation, task) => timeoutStuckAwaits(operation, task));
  const stops = [
    installGuards(),
    trackPromises(),
    watchDroppedPromises(),
    monitorLoopBlocking({ skipStartup: true }),
    installExitReport(exitOptions),
    dumpOnSignal(),
    // Node's own resources (streams, sockets, requests, child processes, intervals) and emitters
    installDebugReach(),
    // the user's own libraries (pg, knex, mysql2, generic-pool, async-mutex, async-lock, p-limit)
    instrumentations(),
    () => setTimeoutExplainer(explainer),
  ];
  disable = () => {
    for (const s of stops) s();
    disable = undefined;
  };
  return disable;
}
