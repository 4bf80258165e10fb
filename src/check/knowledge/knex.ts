/**
 * knex: `db.transaction(trx => …)` holds a connection (and a transaction) for the callback,
 * `db.transaction()` until commit/rollback; a query built on `db` itself (`db("t")…`,
 * `db.select(…)`, `db.raw(…)`) takes a connection of its own unless chained with `.transacting(trx)`.
 */
import ts from "typescript";
import { isFunctionNode, skipOuter } from "../analysis/own-flow.js";
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";

const QUERY_METHODS = new Set([
  "select",
  "insert",
  "update",
  "delete",
  "del",
  "raw",
  "from",
  "table",
  "into",
  "with",
  "where",
  "first",
  "pluck",
  "count",
  "max",
  "min",
  "sum",
  "avg",
  "join",
  "increment",
  "decrement",
  "truncate",
  "upsert",
  "queryBuilder",
]);

/** `db("t").where(…).transacting(trx)`: the chain runs on the transaction's connection. */
function chainUsesTransaction(call: ts.CallExpression): boolean {
  let cur: ts.Node = call;
  for (;;) {
    const p = cur.parent;
    if (p && ts.isPropertyAccessExpression(p) && p.expression === cur && p.parent && ts.isCallExpression(p.parent) && p.parent.expression === p) {
      if (p.name.text === "transacting") return true;
      cur = p.parent;
      continue;
    }
    return false;
  }
}

export const knexKnowledge: PackageKnowledge = {
  name: "knex",
  packages: ["knex"],
  methods: new Set(["transaction", ...QUERY_METHODS]),
  callsValues: true,
  recognise({ call, method, typeName }): Recognised | undefined {
    if (typeName !== "Knex") return undefined;
    if (method === "transaction") {
      const cb = call.arguments[0];
      if (!cb) return { kind: "pool", mode: "handle", transaction: true };
      return isFunctionNode(skipOuter(cb)) ? { kind: "pool", mode: "scoped", callback: cb, transaction: true } : undefined;
    }
    if ((method === undefined || QUERY_METHODS.has(method)) && !chainUsesTransaction(call)) return { kind: "pool", mode: "query" };
    return undefined;
  },
};
