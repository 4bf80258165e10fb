/**
 * MikroORM: `em.transactional(async (tx) => …)` runs the callback in a transaction on a fork
 * `tx`; queries and flushes through the outer `em` (or a repository from it) run outside it.
 */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";
import { callbackArg, clientRoot } from "./package-knowledge.js";

const PACKAGES = [
  "@mikro-orm/core",
  "@mikro-orm/knex",
  "@mikro-orm/sql",
  "@mikro-orm/postgresql",
  "@mikro-orm/mysql",
  "@mikro-orm/mariadb",
  "@mikro-orm/mongodb",
  "@mikro-orm/mssql",
];
const QUERIES = new Set([
  "find",
  "findOne",
  "findOneOrFail",
  "findAll",
  "findAndCount",
  "findByCursor",
  "count",
  "flush",
  "persistAndFlush",
  "removeAndFlush",
  "nativeInsert",
  "nativeUpdate",
  "nativeDelete",
  "insert",
  "insertMany",
  "upsert",
  "upsertMany",
  "execute",
  "refresh",
  "populate",
]);

export const mikroOrmKnowledge: PackageKnowledge = {
  name: "MikroORM",
  packages: PACKAGES,
  methods: new Set(["transactional", ...QUERIES]),
  recognise({ call, checker, method, typeName, receiver }): Recognised | undefined {
    if (method === undefined) return undefined;
    const manager = /EntityManager$/.test(typeName);
    if (method === "transactional" && manager) {
      const cb = callbackArg(call, checker);
      return cb ? { kind: "pool", mode: "scoped", callback: cb, transaction: true, targets: [clientRoot(receiver, checker, PACKAGES)] } : undefined;
    }
    if (QUERIES.has(method) && (manager || /Repository$/.test(typeName)))
      return { kind: "pool", mode: "query", targets: [clientRoot(receiver, checker, PACKAGES)] };
    return undefined;
  },
};
