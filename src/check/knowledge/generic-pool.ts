/** generic-pool: `pool.use(fn)` holds a resource for the callback, `pool.acquire()` until `pool.release(r)`. */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";

export const genericPoolKnowledge: PackageKnowledge = {
  name: "generic-pool",
  packages: ["generic-pool"],
  methods: new Set(["use", "acquire"]),
  recognise({ call, method, typeName }): Recognised | undefined {
    if (typeName !== "Pool") return undefined;
    if (method === "use") return { kind: "pool", mode: "scoped", callback: call.arguments[0] };
    if (method === "acquire") return { kind: "pool", mode: "handle" };
    return undefined;
  },
};
