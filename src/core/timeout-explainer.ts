/**
 * What an expired `withTimeout` was stuck on, beyond the lock it waits for: tasks/ knows core/
 * only, so debug mode (diagnose/) registers the function that reads the pending awaits here.
 */
import type { Diagnosis } from "./diagnosis.js";
import { processWide } from "./process-wide.js";
import type { TaskRecord } from "./task.js";

type Explainer = (operation: string, task: TaskRecord) => Diagnosis[];

const state = processWide<{ explain: Explainer | undefined }>("timeoutExplainer", () => ({ explain: undefined }));

/**
 * Registers (or, with undefined, removes) what explains a timeout; returns the previous one.
 *
 * @example
 * ```ts
 * setTimeoutExplainer((op, task) => timeoutStuckAwaits(op, task));
 * ```
 */
export function setTimeoutExplainer(explain: Explainer | undefined): Explainer | undefined {
  const prev = state.explain;
  state.explain = explain;
  return prev;
}

/** The stuck awaits of an operation that timed out, when debug mode can say. Never throws. */
export function explainTimeout(operation: string, task: TaskRecord): Diagnosis[] {
  try {
    return state.explain?.(operation, task) ?? [];
  } catch {
    return [];
  }
}
