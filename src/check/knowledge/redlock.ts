/**
 * redlock: `redlock.using(resources, ms, fn)` holds the distributed lock on `resources` for the
 * callback (extending it while fn runs); `redlock.acquire(resources, ms)` until `lock.release()`.
 * The resources are the key: holds of other resources do not conflict.
 */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";
import { callbackArg } from "./package-knowledge.js";

export const redlockKnowledge: PackageKnowledge = {
  name: "redlock",
  packages: ["redlock"],
  methods: new Set(["using", "acquire"]),
  recognise({ call, checker, method, typeName }): Recognised | undefined {
    if (typeName !== "Redlock") return undefined;
    const key = call.arguments[0];
    if (method === "using") {
      const cb = callbackArg(call, checker, 2);
      return cb ? { kind: "mutex", mode: "scoped", callback: cb, key } : undefined;
    }
    if (method === "acquire") return { kind: "mutex", mode: "handle", key };
    return undefined;
  },
};
