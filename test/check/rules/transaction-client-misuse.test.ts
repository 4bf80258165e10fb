import { transactionClientMisuse } from "../../../src/check/rules/transaction-client-misuse.js";
import { ruleTester } from "../rule-tester.js";
import { stubs } from "../stubs.js";

const knex = stubs("knex");
const prisma = stubs("prisma");
const sequelize = stubs("sequelize");
const typeorm = stubs("typeorm");
const kysely = stubs("kysely");
const drizzle = stubs("drizzle");
const mikro = stubs("mikro-orm");
const redis = stubs("ioredis");

ruleTester(transactionClientMisuse, {
  valid: [
    {
      name: "knex: every query inside the transaction goes through trx",
      files: knex,
      code: `import knex from "knex";
const db = knex({ client: "pg" });
export async function rename(id: number, name: string) {
  await db.transaction(async (trx) => {
    await trx("users").where({ id }).update({ name });
    await trx("audit").insert({ id });
  });
}`,
    },
    {
      name: "knex: a query on db chained with .transacting(trx)",
      files: knex,
      code: `import knex from "knex";
const db = knex({ client: "pg" });
export async function rename(id: number) {
  await db.transaction(async (trx) => {
    await db("audit").insert({ id }).transacting(trx);
  });
}`,
    },
    {
      name: "knex: the transaction passed down to the helper that queries",
      files: knex,
      code: `import knex, { type Knex } from "knex";
const db = knex({ client: "pg" });
async function audit(q: Knex, id: number) { await q("audit").insert({ id }); }
export async function rename(id: number) {
  await db.transaction(async (trx) => { await audit(trx, id); });
}`,
    },
    {
      name: "knex: a query on db after the transaction's callback returned",
      files: knex,
      code: `import knex from "knex";
const db = knex({ client: "pg" });
export async function rename(id: number) {
  await db.transaction(async (trx) => { await trx("users").where({ id }).del(); });
  await db("audit").insert({ id });
}`,
    },
    {
      name: "prisma: the interactive transaction's tx client",
      files: prisma,
      code: `import { PrismaClient } from "@prisma/client";
const prisma = new PrismaClient();
export async function pay(id: number) {
  await prisma.$transaction(async (tx) => {
    const u = await tx.user.findUnique({ where: { id } });
    await tx.user.update({ where: { id }, data: { balance: (u?.balance ?? 0) - 1 } });
  });
}`,
    },
    {
      name: "sequelize: every model call given { transaction: t }",
      files: sequelize,
      code: `import { Sequelize, Model } from "sequelize";
const sequelize = new Sequelize("postgres://x");
class User extends Model {}
export async function rename(id: number) {
  await sequelize.transaction(async (t) => {
    const u = await User.findByPk(id, { transaction: t });
    await u?.save({ transaction: t });
  });
}`,
    },
    {
      name: "typeorm: the entity manager the callback is given",
      files: typeorm,
      code: `import { DataSource } from "typeorm";
class Account {}
const ds = new DataSource({ type: "postgres" });
export async function move() {
  await ds.transaction(async (em) => {
    await em.getRepository(Account).save({});
    await em.query("select 1");
  });
}`,
    },
    {
      name: "kysely: queries through trx",
      files: kysely,
      code: `import { Kysely } from "kysely";
const db = new Kysely<{}>({});
export async function move() {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable("acct").set({ n: 1 }).execute();
  });
}`,
    },
    {
      name: "drizzle: queries through tx",
      files: drizzle,
      code: `import { drizzle, users } from "drizzle-orm";
const db = drizzle({});
export async function move() {
  await db.transaction(async (tx) => { await tx.update(users).set({ balance: 1 }); });
}`,
    },
    {
      name: "drizzle on SQLite: one connection, so the outer db is still in the transaction",
      files: drizzle,
      code: `import { drizzleSqlite } from "drizzle-orm";
const db = drizzleSqlite({});
export async function move() {
  await db.transaction(async (tx) => { await db.select(); });
}`,
    },
    {
      name: "mikro-orm: the fork the callback is given",
      files: mikro,
      code: `import { EntityManager } from "@mikro-orm/core";
class Book {}
declare const em: EntityManager;
export async function f() {
  await em.transactional(async (tx) => { await tx.find(Book, {}); await tx.flush(); });
}`,
    },
    {
      name: "ioredis: commands queued on the multi",
      files: redis,
      code: `import Redis from "ioredis";
const redis = new Redis();
export async function f() {
  const tx = redis.multi();
  tx.incr("a");
  tx.set("b", 1);
  await tx.exec();
  await redis.get("a");
}`,
    },
    {
      name: "another client's query inside a transaction is not this one's",
      files: knex,
      code: `import knex from "knex";
const db = knex({ client: "pg" });
const analytics = knex({ client: "pg" });
export async function f(id: number) {
  await db.transaction(async (trx) => {
    await trx("users").where({ id }).del();
    await analytics("events").insert({ id });
  });
}`,
    },
  ],
  invalid: [
    {
      name: "knex: a query on db inside db.transaction, through a helper (missing .transacting(trx))",
      files: knex,
      code: `import knex from "knex";
const db = knex({ client: "pg", pool: { min: 0, max: 1 } });
async function audit(id: number) { await db("audit").insert({ id }); }
export async function rename(id: number, name: string) {
  await db.transaction(async (trx) => {
    await trx("users").where({ id }).update({ name });
    await audit(id);
  });
}`,
      findings: [
        {
          line: 7,
          summary: /`db\("audit"\)` goes through `db`, not `trx`, inside the transaction opened at main.ts:5 via audit\(\)/,
          fix: /pass `trx` down to audit\(\).*\.transacting\(trx\)/,
        },
      ],
    },
    {
      name: "knex: raw query on the instance inside the transaction",
      files: knex,
      code: `import knex from "knex";
const db = knex({ client: "pg" });
export async function bump() {
  return db.transaction(async (trx) => {
    await trx("counters").increment("n");
    return db.raw("select count(*) from counters");
  });
}`,
      findings: [{ line: 6, summary: /runs outside the transaction/ }],
    },
    {
      name: "prisma: the outer client inside $transaction",
      files: prisma,
      code: `import { PrismaClient } from "@prisma/client";
const prisma = new PrismaClient();
export async function pay(id: number) {
  await prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id }, data: { balance: 0 } });
    await prisma.user.update({ where: { id: 2 }, data: { balance: 1 } });
  });
}`,
      findings: [{ line: 6, summary: /goes through `prisma`, not `tx`/, fix: /through `tx` instead of `prisma`/ }],
    },
    {
      name: "sequelize: a model call without { transaction: t }",
      files: sequelize,
      code: `import { Sequelize, Model } from "sequelize";
const sequelize = new Sequelize("postgres://x");
class User extends Model {}
export async function rename(id: number) {
  await sequelize.transaction(async (t) => {
    await User.update({ name: "x" }, { where: { id }, transaction: t });
    await User.create({ id: 2 });
  });
}`,
      findings: [{ line: 7, summary: /default connection of sequelize/, fix: /\{ transaction: t \}/ }],
    },
    {
      name: "typeorm: the data source's repository inside its transaction",
      files: typeorm,
      code: `import { DataSource } from "typeorm";
class Account {}
const ds = new DataSource({ type: "postgres" });
export async function move() {
  await ds.transaction(async (em) => {
    await em.getRepository(Account).save({});
    await ds.getRepository(Account).save({});
  });
}`,
      findings: [{ line: 7, fix: /entity manager the callback is given/ }],
    },
    {
      name: "kysely: db instead of trx",
      files: kysely,
      code: `import { Kysely } from "kysely";
const db = new Kysely<{}>({});
export async function move() {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable("acct").set({ n: 1 }).execute();
    await db.insertInto("log").values({ n: 1 }).execute();
  });
}`,
      findings: [{ line: 6 }],
    },
    {
      name: "drizzle: db instead of tx",
      files: drizzle,
      code: `import { drizzle, users } from "drizzle-orm";
const db = drizzle({});
export async function move() {
  await db.transaction(async (tx) => {
    await tx.update(users).set({ balance: 1 });
    await db.query.users.findMany();
  });
}`,
      findings: [{ line: 6 }],
    },
    {
      name: "mikro-orm: the outer em inside em.transactional",
      files: mikro,
      code: `import { EntityManager } from "@mikro-orm/core";
class Book {}
declare const em: EntityManager;
export async function f() {
  await em.transactional(async (tx) => {
    await em.find(Book, {});
  });
}`,
      findings: [{ line: 6 }],
    },
    {
      name: "ioredis: a command on the client while a multi is open",
      files: redis,
      code: `import Redis from "ioredis";
const redis = new Redis();
export async function f() {
  const tx = redis.multi();
  tx.incr("a");
  const b = await redis.get("b");
  tx.set("c", b ?? "");
  await tx.exec();
}`,
      findings: [{ line: 6, fix: /Queue the command on the transaction \(`tx.get/ }],
    },
  ],
});
