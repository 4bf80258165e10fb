import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyCall } from "../../../src/check/analysis/classify-call.js";
import { knowledge, knowledgeOf } from "../../../src/check/knowledge/index.js";
import { packageOfFile } from "../../../src/check/knowledge/package-knowledge.js";
import { stubs } from "../stubs.js";
import { callsStarting, load } from "./helpers.js";

/** Classifies the innermost call starting with `call`: "kind mode method [tx] [key] [any]" or "none". */
function classify(code: string, call: string, ...pkgs: string[]): string {
  const { checker, main } = load(code, stubs(...pkgs));
  const c = callsStarting(main, call).at(-1);
  assert.ok(c, `no call starting with ${call}`);
  const u = classifyCall(c, checker);
  if (!u) return "none";
  return (
    [u.kind, u.mode, u.method, u.transaction ? "tx" : "", u.key ? `key=${u.key.getText()}` : "", u.anyInstance ? "any" : "", u.shared ? "shared" : ""]
      .filter(Boolean)
      .join(" ") + ` @${u.targets.map((t) => t.getText()).join(",")}`
  );
}

describe("knowledge: one file per package, recognised by type", () => {
  it("covers every package the issue names", () => {
    for (const p of [
      "async-mutex",
      "p-limit",
      "p-queue",
      "async-lock",
      "redlock",
      "lib.dom",
      "pg",
      "mysql2",
      "knex",
      "sequelize",
      "typeorm",
      "@prisma/client",
      ".prisma",
      "@mikro-orm/core",
      "kysely",
      "drizzle-orm",
      "generic-pool",
      "ioredis",
    ]) {
      assert.ok(knowledgeOf(p), p);
    }
    assert.equal(new Set(knowledge.map((k) => k.name)).size, knowledge.length);
  });

  it("names Prisma's generated client and TypeScript's DOM lib as packages", () => {
    assert.equal(packageOfFile("/app/node_modules/.prisma/client/index.d.ts"), ".prisma");
    assert.equal(packageOfFile("/app/node_modules/typescript/lib/lib.dom.d.ts"), "lib.dom");
    assert.equal(packageOfFile("/app/node_modules/typescript/lib/lib.es2020.d.ts"), "typescript");
  });

  const cases: [string, string, string, string[]][] = [
    [
      `import AsyncLock from "async-lock"; const lock = new AsyncLock(); void lock.acquire("acct", async () => 1);`,
      "lock.acquire",
      `mutex scoped acquire key="acct" @lock`,
      ["async-lock"],
    ],
    [
      `import Redlock from "redlock"; declare const r: Redlock; void r.using(["a"], 1000, async () => 1);`,
      "r.using",
      `mutex scoped using key=["a"] @r`,
      ["redlock"],
    ],
    [`import Redlock from "redlock"; declare const r: Redlock; void r.acquire(["a"], 1000);`, "r.acquire", `mutex handle acquire key=["a"] @r`, ["redlock"]],
    [`void navigator.locks.request("cache", async () => 1);`, "navigator.locks.request", `rwlock scoped request key="cache" @navigator.locks`, []],
    [
      `void navigator.locks.request("cache", { mode: "shared" }, async () => 1);`,
      "navigator.locks.request",
      `rwlock scoped request key="cache" shared @navigator.locks`,
      [],
    ],
    [
      `import { Sequelize } from "sequelize"; const s = new Sequelize("x"); void s.transaction(async (t) => 1);`,
      "s.transaction",
      "pool scoped transaction tx @s",
      ["sequelize"],
    ],
    [
      `import { Sequelize, Model } from "sequelize"; class User extends Model {} void User.findOne({ where: { id: 1 } });`,
      "User.findOne",
      "pool query findOne any @User",
      ["sequelize"],
    ],
    [
      `import { Sequelize, Model, type Transaction } from "sequelize"; class User extends Model {} declare const t: Transaction; void User.findOne({ where: { id: 1 }, transaction: t });`,
      "User.findOne",
      "none",
      ["sequelize"],
    ],
    [
      `import { DataSource } from "typeorm"; const ds = new DataSource({ type: "postgres" }); void ds.manager.transaction(async (em) => 1);`,
      "ds.manager.transaction",
      "pool scoped transaction tx @ds",
      ["typeorm"],
    ],
    [
      `import { DataSource } from "typeorm"; class U {} const ds = new DataSource({ type: "postgres" }); void ds.getRepository(U).save({});`,
      "ds.getRepository(U).save",
      "pool query save @ds",
      ["typeorm"],
    ],
    [
      `import { PrismaClient } from "@prisma/client"; const prisma = new PrismaClient(); void prisma.$transaction(async (tx) => 1);`,
      "prisma.$transaction",
      "pool scoped $transaction tx @prisma",
      ["prisma"],
    ],
    [
      `import { PrismaClient } from "@prisma/client"; const prisma = new PrismaClient(); void prisma.$transaction([prisma.user.findMany()]);`,
      "prisma.$transaction",
      "none",
      ["prisma"],
    ],
    [
      `import { PrismaClient } from "@prisma/client"; const prisma = new PrismaClient(); void prisma.user.update({ where: { id: 1 }, data: {} });`,
      "prisma.user.update",
      "pool query update @prisma",
      ["prisma"],
    ],
    [
      `import { EntityManager } from "@mikro-orm/core"; declare const em: EntityManager; void em.transactional(async (tx) => 1);`,
      "em.transactional",
      "pool scoped transactional tx @em",
      ["mikro-orm"],
    ],
    [
      `import { Kysely } from "kysely"; const db = new Kysely<{}>({}); void db.transaction().execute(async (trx) => 1);`,
      "db.transaction().execute",
      "pool scoped execute tx @db",
      ["kysely"],
    ],
    [
      `import { Kysely } from "kysely"; const db = new Kysely<{}>({}); void db.selectFrom("t").selectAll().execute();`,
      "db.selectFrom(",
      "pool query selectFrom @db",
      ["kysely"],
    ],
    [
      `import { Kysely, type Transaction } from "kysely"; declare const trx: Transaction<{}>; void trx.selectFrom("t").execute();`,
      "trx.selectFrom(",
      "none",
      ["kysely"],
    ],
    [
      `import { drizzle } from "drizzle-orm"; const db = drizzle({}); void db.transaction(async (tx) => 1);`,
      "db.transaction",
      "pool scoped transaction tx @db",
      ["drizzle"],
    ],
    [`import { drizzle, users } from "drizzle-orm"; const db = drizzle({}); void db.select().from(users);`, "db.select(", "pool query select @db", ["drizzle"]],
    [`import { drizzleSqlite } from "drizzle-orm"; const db = drizzleSqlite({}); void db.transaction(async (tx) => 1);`, "db.transaction", "none", ["drizzle"]],
    [`import Redis from "ioredis"; const redis = new Redis(); const m = redis.multi(); void m;`, "redis.multi", "pool handle multi tx @redis", ["ioredis"]],
    [`import Redis from "ioredis"; const redis = new Redis(); void redis.get("k");`, "redis.get", "pool query get @redis", ["ioredis"]],
  ];
  for (const [code, call, expected] of cases) {
    it(`${call} in ${code.slice(code.indexOf(";") + 1, code.indexOf(";") + 60)}… → ${expected}`, () => {
      const pkgs = cases.find((c) => c[0] === code)![3];
      assert.equal(classify(code, call, ...pkgs), expected);
    });
  }

  it("recognises nothing by a name alone: a program's own class called Sequelize or PrismaClient is not the package's", () => {
    assert.equal(
      classify(
        `class PrismaClient { async $transaction(fn: () => Promise<void>) { await fn(); } } void new PrismaClient().$transaction(async () => {});`,
        "new PrismaClient().$transaction",
      ),
      "none",
    );
    assert.equal(
      classify(
        `class Sequelize { async transaction(fn: () => Promise<void>) { await fn(); } } void new Sequelize().transaction(async () => {});`,
        "new Sequelize().transaction",
      ),
      "none",
    );
  });
});
