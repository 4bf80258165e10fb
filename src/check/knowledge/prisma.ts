/**
 * Prisma: `prisma.$transaction(async (tx) => …)` (the interactive form) holds a connection and
 * a transaction for the callback; only `tx` runs in it. A model query on the client itself
 * (`prisma.user.update(…)`) or a raw one (`prisma.$queryRaw`) takes another connection from the
 * client's pool, outside the transaction. The array form `$transaction([…])` holds nothing the
 * caller runs.
 */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";
import { clientRoot, isCallable } from "./package-knowledge.js";

const PACKAGES = ["@prisma/client", ".prisma"];
const RAW = new Set(["$queryRaw", "$executeRaw", "$queryRawUnsafe", "$executeRawUnsafe", "$runCommandRaw"]);
const MODEL_QUERIES = new Set([
  "findUnique",
  "findUniqueOrThrow",
  "findFirst",
  "findFirstOrThrow",
  "findMany",
  "create",
  "createMany",
  "createManyAndReturn",
  "update",
  "updateMany",
  "updateManyAndReturn",
  "upsert",
  "delete",
  "deleteMany",
  "count",
  "aggregate",
  "groupBy",
]);

export const prismaKnowledge: PackageKnowledge = {
  name: "Prisma",
  packages: PACKAGES,
  methods: new Set(["$transaction", ...RAW, ...MODEL_QUERIES]),
  recognise({ call, checker, method, typeName, receiver }): Recognised | undefined {
    if (method === undefined) return undefined;
    if (typeName === "PrismaClient") {
      if (method === "$transaction")
        return isCallable(call.arguments[0], checker) ? { kind: "pool", mode: "scoped", callback: call.arguments[0], transaction: true } : undefined;
      if (RAW.has(method)) return { kind: "pool", mode: "query" };
      return undefined;
    }
    if (MODEL_QUERIES.has(method) && /Delegate$/.test(typeName)) return { kind: "pool", mode: "query", targets: [clientRoot(receiver, checker, PACKAGES)] };
    return undefined;
  },
};
