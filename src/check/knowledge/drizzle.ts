/**
 * Drizzle ORM: `db.transaction(async (tx) => …)` holds a connection and a transaction for the
 * callback; a query on `db` itself (`db.select()…`, `db.insert(t)…`, `db.query.users.findMany()`)
 * takes another one. SQLite drivers have one connection, so a query there is still in the
 * transaction: they are left out.
 */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";
import { callbackArg, clientRoot } from "./package-knowledge.js";

const PACKAGES = ["drizzle-orm"];
const QUERY_STARTS = new Set([
  "select",
  "selectDistinct",
  "selectDistinctOn",
  "insert",
  "update",
  "delete",
  "execute",
  "with",
  "$count",
  "findMany",
  "findFirst",
]);
const SINGLE_CONNECTION = /SQLite|LibSQL|D1|Durable|Expo|OPSQLite|Bun/;

export const drizzleKnowledge: PackageKnowledge = {
  name: "Drizzle ORM",
  packages: PACKAGES,
  methods: new Set(["transaction", ...QUERY_STARTS]),
  recognise({ call, checker, method, typeName, receiver }): Recognised | undefined {
    if (method === undefined || SINGLE_CONNECTION.test(typeName) || /Transaction$/.test(typeName)) return undefined;
    const database = /Database$/.test(typeName);
    if (method === "transaction" && database) {
      const cb = callbackArg(call, checker);
      return cb ? { kind: "pool", mode: "scoped", callback: cb, transaction: true } : undefined;
    }
    if (QUERY_STARTS.has(method) && (database || typeName === "RelationalQueryBuilder")) {
      const root = clientRoot(receiver, checker, PACKAGES);
      const rootType = checker.getTypeAtLocation(root).getSymbol()?.getName() ?? "";
      return /Transaction$/.test(rootType) ? undefined : { kind: "pool", mode: "query", targets: [root] };
    }
    return undefined;
  },
};
