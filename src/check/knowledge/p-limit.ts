/** p-limit: the function `pLimit(n)` returns runs each `limit(fn)` in one of n slots; `limit.map(items, fn)` too. */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";

export const pLimitKnowledge: PackageKnowledge = {
  name: "p-limit",
  packages: ["p-limit"],
  methods: new Set(["map"]),
  callsValues: true,
  recognise({ call, method, typeName }): Recognised | undefined {
    if (typeName !== "LimitFunction") return undefined;
    if (method === undefined) return { kind: "limiter", mode: "scoped", callback: call.arguments[0] };
    if (method === "map") return { kind: "limiter", mode: "scoped", callback: call.arguments[1] };
    return undefined;
  },
};
