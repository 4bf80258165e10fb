/**
 * Every static rule, in the order they are documented. The CLI, the configuration and the
 * ESLint plugin all read this list.
 */
import type { Rule } from "../rule.js";
import { floatingPromise } from "./floating-promise.js";
import { unawaitedAggregate } from "./unawaited-aggregate.js";
import { asyncCallbackMisuse } from "./async-callback-misuse.js";
import { missingTimeout } from "./missing-timeout.js";
import { unclosedResource } from "./unclosed-resource.js";
import { intervalInConstructor } from "./interval-in-constructor.js";
import { unconsumedBody } from "./unconsumed-body.js";
import { missedOnceEvent } from "./missed-once-event.js";
import { httpTimeoutNotEnforced } from "./http-timeout-not-enforced.js";
import { unobservedRejection } from "./unobserved-rejection.js";
import { nestedAcquire } from "./nested-acquire.js";
import { lockOrder } from "./lock-order.js";
import { poolNestedAcquire } from "./pool-nested-acquire.js";
import { readAwaitWrite } from "./read-await-write.js";
import { transactionClientMisuse } from "./transaction-client-misuse.js";
import { checkThenAct } from "./check-then-act.js";
import { loadModifySave } from "./load-modify-save.js";

/** All rules, file-scoped and program-scoped. */
export const rules: readonly Rule[] = [
  floatingPromise,
  unawaitedAggregate,
  asyncCallbackMisuse,
  unobservedRejection,
  missingTimeout,
  unclosedResource,
  unconsumedBody,
  missedOnceEvent,
  intervalInConstructor,
  httpTimeoutNotEnforced,
  nestedAcquire,
  lockOrder,
  poolNestedAcquire,
  readAwaitWrite,
  transactionClientMisuse,
  checkThenAct,
  loadModifySave,
];

/** The rule with id `id`, if any. */
export function findRule(id: string): Rule | undefined {
  return rules.find((r) => r.meta.id === id);
}
