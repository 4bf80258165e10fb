/**
 * sequelize: `sequelize.transaction(async (t) => …)` holds a connection and a transaction for the
 * callback (`sequelize.transaction()` until commit/rollback). A query joins it only when passed
 * `{ transaction: t }`: a model method (`User.findOne(…)`, `user.save()`) or `sequelize.query(…)`
 * without that option runs on another connection of the default pool, outside the transaction.
 * (With `Sequelize.useCLS(namespace)` the transaction is passed implicitly; such programs should
 * turn transaction-client-misuse off.)
 */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";
import { callbackArg, mayHaveOption } from "./package-knowledge.js";

// the model methods that run a statement, and the index of their options argument
const STATIC_QUERIES: Readonly<Record<string, number>> = {
  findAll: 0,
  findOne: 0,
  findByPk: 1,
  findOrCreate: 0,
  findAndCountAll: 0,
  count: 0,
  max: 1,
  min: 1,
  sum: 1,
  create: 1,
  bulkCreate: 1,
  update: 1,
  destroy: 0,
  upsert: 1,
  increment: 1,
  decrement: 1,
  restore: 0,
  truncate: 0,
};
const INSTANCE_QUERIES: Readonly<Record<string, number>> = { save: 0, destroy: 0, reload: 0, update: 1, increment: 1, decrement: 1, restore: 0 };

export const sequelizeKnowledge: PackageKnowledge = {
  name: "sequelize",
  packages: ["sequelize", "@sequelize/core", "sequelize-typescript"],
  // `instance.destroy()` deletes the row: a model instance is not a resource
  notResources: ["Model"],
  methods: new Set(["transaction", "query", ...Object.keys(STATIC_QUERIES), ...Object.keys(INSTANCE_QUERIES)]),
  recognise({ call, checker, method, typeName }): Recognised | undefined {
    if (method === undefined) return undefined;
    if (typeName === "Sequelize") {
      if (method === "transaction") {
        const cb = callbackArg(call, checker);
        return cb ? { kind: "pool", mode: "scoped", callback: cb, transaction: true } : { kind: "pool", mode: "handle", transaction: true };
      }
      if (method === "query" && !mayHaveOption(call.arguments[1], "transaction")) return { kind: "pool", mode: "query", anyInstance: true };
      return undefined;
    }
    // `User.findOne(…)`: the receiver's type is a class derived from Model (see lockTypeOf)
    if (typeName === "static Model") {
      const at = STATIC_QUERIES[method];
      return at !== undefined && !mayHaveOption(call.arguments[at], "transaction") ? { kind: "pool", mode: "query", anyInstance: true } : undefined;
    }
    if (typeName === "Model") {
      const at = INSTANCE_QUERIES[method];
      return at !== undefined && !mayHaveOption(call.arguments[at], "transaction") ? { kind: "pool", mode: "query", anyInstance: true } : undefined;
    }
    return undefined;
  },
};
