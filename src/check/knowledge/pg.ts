/**
 * pg (node-postgres): `pool.connect()` checks a client out until `client.release()`;
 * `pool.query()` runs one statement on a connection of its own. asyncdoctor's `guardPool(pool)`
 * adds `use(fn)`. A client's `query("BEGIN")` starts a transaction on the held client.
 */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";

export const pgKnowledge: PackageKnowledge = {
  name: "pg",
  packages: ["pg", "pg-pool"],
  methods: new Set(["use", "connect", "query"]),
  recognise({ call, method, typeName }): Recognised | undefined {
    if (typeName !== "Pool") return undefined;
    switch (method) {
      case "use":
        return call.arguments.length > 0 ? { kind: "pool", mode: "scoped", callback: call.arguments[0] } : undefined;
      case "connect":
        return call.arguments.length === 0 ? { kind: "pool", mode: "handle" } : undefined;
      case "query":
        return { kind: "pool", mode: "query" };
      default:
        return undefined;
    }
  },
};
