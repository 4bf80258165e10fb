/**
 * The one entry for "is this call an acquire": a package's or a configured type's API
 * (lock-apis.ts), else a hand-written lock, limiter or pool recognised by its shape (lock-shapes.ts).
 */
import type ts from "typescript";
import type { CustomTypes, LockUse } from "./lock-apis.js";
import { classifyKnown, NO_CUSTOM_TYPES } from "./lock-apis.js";
import { classifyByShape } from "./lock-shapes.js";

/** Classifies a call as an acquire of a recognised lock, limiter, pool or transaction, or undefined. */
export function classifyCall(call: ts.CallExpression, checker: ts.TypeChecker, custom: CustomTypes = NO_CUSTOM_TYPES): LockUse | undefined {
  return classifyKnown(call, checker, custom) ?? classifyByShape(call, checker, custom);
}
