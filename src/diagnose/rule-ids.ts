/**
 * The runtime rule ids as a value, so a `--fail-on` list can be checked: a typo would make a
 * gate that can never fail.
 */
import type { RuntimeRule } from "../core/diagnosis.js";
import { InvalidArgTypeError } from "../core/validate.js";

// Keyed by every RuntimeRule: the compiler rejects this object when a rule is added or removed there.
const RULES: Record<RuntimeRule, true> = {
  "deadlock-reentrant": true,
  "deadlock-cycle": true,
  "pool-exhaustion": true,
  "lock-order-inversion": true,
  "long-wait": true,
  "lost-update": true,
  "task-failed": true,
  "unhandled-rejection": true,
  "dropped-promise": true,
  "leaked-task": true,
  "leaked-resource": true,
  "leaked-lock": true,
  "leaked-timer": true,
  "never-settled": true,
  "loop-blocked": true,
  timeout: true,
};

/** Every runtime rule id, in the order DESIGN.md lists them. */
export const runtimeRuleIds: readonly RuntimeRule[] = Object.keys(RULES) as RuntimeRule[];

/** True for a runtime rule id. */
export function isRuntimeRule(id: string): id is RuntimeRule {
  return Object.prototype.hasOwnProperty.call(RULES, id);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The closest rule id to a misspelt one, when it is close enough to be what was meant. */
export function closestRule(id: string): RuntimeRule | undefined {
  let best: RuntimeRule | undefined;
  let bestD = Infinity;
  for (const r of runtimeRuleIds) {
    const d = distance(id, r);
    if (d < bestD) [best, bestD] = [r, d];
  }
  return bestD <= Math.max(2, Math.floor(id.length / 4)) ? best : undefined;
}

/**
 * Why `id` is not a rule id `--fail-on` accepts ("unknown rule id …, did you mean …"), or
 * undefined when it is one (a runtime rule id, or `all`).
 */
export function unknownRuleMessage(id: string): string | undefined {
  if (id === "all" || isRuntimeRule(id)) return undefined;
  const near = closestRule(id);
  return `unknown rule id "${id}"${near ? ` (did you mean "${near}"?)` : ""}; the runtime rule ids are ${runtimeRuleIds.join(", ")}, or "all"`;
}

/**
 * Splits and checks a `--fail-on` / `ASYNCDOCTOR_FAIL_ON` value: comma-separated runtime rule
 * ids, or `all`. Throws a RangeError naming the unknown id (and the likely one) otherwise.
 *
 * @example
 * ```ts
 * parseFailOn("leaked-task, never-settled"); // ["leaked-task", "never-settled"]
 * parseFailOn("leaked-tsak");                // RangeError: … unknown rule id "leaked-tsak" (did you mean "leaked-task"?) …
 * ```
 */
export function parseFailOn(value: string, name = "--fail-on"): string[] {
  if (typeof value !== "string") throw new InvalidArgTypeError(name, "of type string", value);
  const ids = value
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new FailOnError(name, `expected comma-separated rule ids or "all", got "${value}"`);
  checkRuleIds(ids, name);
  return ids;
}

/** Throws a RangeError for the first id that is neither a runtime rule id nor `all`. */
export function checkRuleIds(ids: readonly string[], name: string): void {
  for (const id of ids) {
    const problem = unknownRuleMessage(id);
    if (problem) throw new FailOnError(name, problem);
  }
}

/** A `--fail-on` list that names no rule asyncdoctor has: Node's ERR_OUT_OF_RANGE, with a plain message. */
export class FailOnError extends RangeError {
  readonly code = "ERR_OUT_OF_RANGE";
  constructor(name: string, problem: string) {
    super(`${name}: ${problem}`);
    this.name = "RangeError";
  }
}
