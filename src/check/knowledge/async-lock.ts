/**
 * async-lock: `lock.acquire(key, fn)` runs fn holding the lock named `key` (a string or a list
 * of them); holds of other keys do not conflict. Passed a node-style `done` callback instead of
 * a promise-returning function, it still holds until `done` is called, so it is scoped either way.
 */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";
import { isCallable } from "./package-knowledge.js";

export const asyncLockKnowledge: PackageKnowledge = {
  name: "async-lock",
  packages: ["async-lock"],
  methods: new Set(["acquire"]),
  recognise({ call, checker, method, typeName }): Recognised | undefined {
    if (typeName !== "AsyncLock" || method !== "acquire") return undefined;
    const cb = call.arguments[1];
    return isCallable(cb, checker) ? { kind: "mutex", mode: "scoped", callback: cb, key: call.arguments[0] } : undefined;
  },
};
