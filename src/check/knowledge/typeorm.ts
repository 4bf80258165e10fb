/**
 * typeorm: `dataSource.transaction(async (em) => …)` (also on `dataSource.manager`, a legacy
 * `Connection`, an `EntityManager`) holds a connection and a transaction for the callback; only
 * the `em` it is given runs in it. A query through the data source, its manager or a
 * repository got from them (`dataSource.getRepository(User).save(…)`) takes another connection.
 */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";
import { callbackArg, clientRoot } from "./package-knowledge.js";

const PACKAGES = ["typeorm"];
const CLIENTS = new Set(["DataSource", "Connection", "EntityManager"]);
const QUERY_HOLDERS = new Set([
  "DataSource",
  "Connection",
  "EntityManager",
  "Repository",
  "TreeRepository",
  "MongoRepository",
  "SelectQueryBuilder",
  "InsertQueryBuilder",
  "UpdateQueryBuilder",
  "DeleteQueryBuilder",
  "SoftDeleteQueryBuilder",
]);
const QUERIES = new Set([
  "find",
  "findBy",
  "findOne",
  "findOneBy",
  "findOneOrFail",
  "findOneByOrFail",
  "findAndCount",
  "findAndCountBy",
  "count",
  "countBy",
  "exists",
  "existsBy",
  "save",
  "insert",
  "update",
  "upsert",
  "delete",
  "remove",
  "softDelete",
  "softRemove",
  "restore",
  "increment",
  "decrement",
  "query",
  "clear",
  "getMany",
  "getOne",
  "getOneOrFail",
  "getRawMany",
  "getRawOne",
  "getManyAndCount",
  "getCount",
  "getExists",
  "execute",
  "sum",
  "average",
  "minimum",
  "maximum",
]);

export const typeormKnowledge: PackageKnowledge = {
  name: "typeorm",
  packages: PACKAGES,
  methods: new Set(["transaction", ...QUERIES]),
  recognise({ call, checker, method, typeName, receiver }): Recognised | undefined {
    if (method === undefined) return undefined;
    if (method === "transaction" && CLIENTS.has(typeName)) {
      const cb = callbackArg(call, checker);
      return cb ? { kind: "pool", mode: "scoped", callback: cb, transaction: true, targets: [clientRoot(receiver, checker, PACKAGES)] } : undefined;
    }
    if (QUERIES.has(method) && QUERY_HOLDERS.has(typeName)) return { kind: "pool", mode: "query", targets: [clientRoot(receiver, checker, PACKAGES)] };
    return undefined;
  },
};
