/**
 * Web Locks (`navigator.locks`, TypeScript's DOM lib): `request(name, [options], fn)` runs fn
 * holding the lock called `name`, exclusive unless `{ mode: "shared" }`. The name is the key.
 */
import ts from "typescript";
import { skipOuter } from "../analysis/own-flow.js";
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";
import { callbackArg, optionValue } from "./package-knowledge.js";

export const webLocksKnowledge: PackageKnowledge = {
  name: "Web Locks (navigator.locks)",
  packages: ["lib.dom"],
  methods: new Set(["request"]),
  recognise({ call, checker, method, typeName }): Recognised | undefined {
    if (typeName !== "LockManager" || method !== "request") return undefined;
    const cb = callbackArg(call, checker, 1);
    if (!cb) return undefined;
    const mode = call.arguments.length > 2 ? optionValue(call.arguments[1], "mode") : undefined;
    const shared = mode !== undefined && ts.isStringLiteralLike(skipOuter(mode)) && skipOuter(mode).getText().includes("shared");
    return { kind: "rwlock", mode: "scoped", callback: cb, key: call.arguments[0], shared };
  },
};
