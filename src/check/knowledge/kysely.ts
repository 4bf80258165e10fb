/**
 * kysely: `db.transaction().execute(async (trx) => …)` holds a connection and a transaction for
 * the callback, `db.connection().execute(fn)` a connection, `await db.startTransaction().execute()`
 * until `trx.commit()`/`rollback()`. A query started on `db` itself (`db.selectFrom(…)…`) takes
 * a connection of its own.
 */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";
import { clientRoot, isCallable } from "./package-knowledge.js";

const PACKAGES = ["kysely"];
const QUERY_STARTS = new Set([
  "selectFrom",
  "selectNoFrom",
  "insertInto",
  "replaceInto",
  "updateTable",
  "deleteFrom",
  "mergeInto",
  "with",
  "withRecursive",
  "executeQuery",
]);

export const kyselyKnowledge: PackageKnowledge = {
  name: "kysely",
  packages: PACKAGES,
  methods: new Set(["execute", ...QUERY_STARTS]),
  recognise({ call, checker, method, typeName, receiver }): Recognised | undefined {
    if (method === undefined) return undefined;
    if (method === "execute") {
      const target = [clientRoot(receiver, checker, PACKAGES)];
      if (typeName === "TransactionBuilder" && isCallable(call.arguments[0], checker))
        return { kind: "pool", mode: "scoped", callback: call.arguments[0], transaction: true, targets: target };
      if (typeName === "ConnectionBuilder" && isCallable(call.arguments[0], checker))
        return { kind: "pool", mode: "scoped", callback: call.arguments[0], targets: target };
      if (typeName === "ControlledTransactionBuilder" && call.arguments.length === 0)
        return { kind: "pool", mode: "handle", transaction: true, targets: target };
      return undefined;
    }
    // a Transaction is a Kysely too, but its queries run in it
    if (typeName === "Kysely" && QUERY_STARTS.has(method)) return { kind: "pool", mode: "query" };
    return undefined;
  },
};
