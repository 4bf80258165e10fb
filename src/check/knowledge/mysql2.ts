/** mysql2 (promise API): `pool.getConnection()` holds a connection until `release()`; `pool.query()`/`execute()` take one per statement. */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";

export const mysql2Knowledge: PackageKnowledge = {
  name: "mysql2",
  packages: ["mysql2"],
  methods: new Set(["getConnection", "query", "execute"]),
  recognise({ call, method, typeName }): Recognised | undefined {
    if (typeName !== "Pool") return undefined;
    if (method === "getConnection") return call.arguments.length === 0 ? { kind: "pool", mode: "handle" } : undefined;
    if (method === "query" || method === "execute") return { kind: "pool", mode: "query" };
    return undefined;
  },
};
