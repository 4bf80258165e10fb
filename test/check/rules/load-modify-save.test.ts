import { loadModifySave } from "../../../src/check/rules/load-modify-save.js";
import { ruleTester } from "../rule-tester.js";
import { stubs } from "../stubs.js";

const model = `interface Account { id: number; name: string; balance: number; version: number; save(): Promise<void> }
declare const Accounts: {
  findOne(q: { id: number }): Promise<Account>;
  updateOne(q: object, u: object): Promise<void>;
  increment(q: object, field: string, by: number): Promise<void>;
};
`;
const prisma = stubs("prisma");
const redis = stubs("ioredis");

ruleTester(loadModifySave, {
  valid: [
    {
      name: "the fix: one atomic increment in the database",
      files: prisma,
      code: `import { PrismaClient } from "@prisma/client";
const prisma = new PrismaClient();
export async function pay(id: number, amount: number) {
  await prisma.user.update({ where: { id }, data: { balance: { decrement: amount } } });
}`,
    },
    {
      name: "optimistic concurrency: the update checks the version it read",
      files: prisma,
      code: `import { PrismaClient } from "@prisma/client";
const prisma = new PrismaClient();
export async function pay(id: number, amount: number) {
  const u = await prisma.user.findUnique({ where: { id } });
  if (!u) return;
  const r = await prisma.user.updateMany({ where: { id, version: u.version }, data: { balance: u.balance - amount, version: u.version + 1 } });
  if (r.count === 0) throw new Error("conflict, retry");
}`,
    },
    {
      name: "a field set from an outside value, not from its own",
      code: `${model}export async function rename(id: number, name: string) {
  const acct = await Accounts.findOne({ id });
  acct.name = name;
  await acct.save();
}`,
    },
    {
      name: "the row locked when loaded (SELECT … FOR UPDATE)",
      code: `${model}declare const trx: { forUpdate(): typeof Accounts };
export async function pay(id: number, amount: number) {
  const acct = await trx.forUpdate().findOne({ id });
  acct.balance -= amount;
  await acct.save();
}`,
    },
    {
      name: "a lock held across the load and the save",
      files: stubs("async-mutex"),
      code: `import { Mutex } from "async-mutex";
${model}const lock = new Mutex();
export async function pay(id: number, amount: number) {
  await lock.runExclusive(async () => {
    const acct = await Accounts.findOne({ id });
    acct.balance -= amount;
    await acct.save();
  });
}`,
    },
    {
      name: "a record built in memory, not loaded",
      code: `${model}declare function blank(): Account;
export async function open() {
  const acct = blank();
  acct.balance += 10;
  await acct.save();
}`,
    },
    {
      name: "Redis: INCRBY instead of get then set",
      files: redis,
      code: `import Redis from "ioredis";
const redis = new Redis();
export async function hit(k: string) {
  await redis.incrby(k, 1);
}`,
    },
    {
      name: "Redis: a value read and converted, written elsewhere unchanged",
      files: redis,
      code: `import Redis from "ioredis";
const redis = new Redis();
export async function copy(k: string) {
  const n = Number((await redis.get(k)) ?? 0);
  await redis.set("copy:" + k, String(n));
}`,
    },
    {
      name: "a value converted from a call that is not awaited is not a load",
      files: redis,
      code: `import Redis from "ioredis";
const redis = new Redis();
declare function local(k: string): string;
export async function bump(k: string) {
  const n = Number(local(k) ?? 0);
  await redis.set(k, n + 1);
}`,
    },
    {
      name: "changed, but never saved",
      code: `${model}export async function preview(id: number, amount: number) {
  const acct = await Accounts.findOne({ id });
  acct.balance -= amount;
  return acct.balance;
}`,
    },
  ],
  invalid: [
    {
      name: "a document loaded, decremented in place, saved",
      code: `${model}export async function pay(id: number, amount: number) {
  const acct = await Accounts.findOne({ id });
  acct.balance -= amount;
  await acct.save();
}`,
      findings: [
        {
          line: 10,
          summary: /`acct.balance` is read with `await` at main.ts:8, changed from its own value at main.ts:9 and saved here/,
          fix: /\$inc|increment/,
        },
      ],
    },
    {
      name: "Prisma: the new value computed from the loaded row in update's data",
      files: prisma,
      code: `import { PrismaClient } from "@prisma/client";
const prisma = new PrismaClient();
export async function pay(id: number, amount: number) {
  const u = await prisma.user.findUnique({ where: { id } });
  if (!u) return;
  await prisma.user.update({ where: { id }, data: { balance: u.balance - amount } });
}`,
      findings: [{ line: 6, summary: /`u.balance` is read with `await`/ }],
    },
    {
      name: "Redis: get, then set from the value read",
      files: redis,
      code: `import Redis from "ioredis";
const redis = new Redis();
export async function hit(k: string) {
  const v = await redis.get(k);
  await redis.set(k, Number(v) + 1);
}`,
      findings: [{ line: 5, summary: /`v` is read with `await`/, fix: /INCRBY/ }],
    },
    {
      name: "Redis: the value read converted and defaulted, then set plus one (node-ratelimiter#6)",
      files: redis,
      code: `import Redis from "ioredis";
const redis = new Redis();
export async function hit(k: string, max: number) {
  const count = Number((await redis.get(k)) ?? 0);
  if (count >= max) return false;
  await redis.set(k, count + 1, "EX", 60);
  return true;
}`,
      findings: [{ line: 6, summary: /`count` is read with `await`/ }],
    },
    {
      name: "a counter bumped with ++ and written back through a repository",
      code: `${model}declare const repo: { save(a: Account): Promise<Account> };
export async function visit(id: number) {
  const acct = await Accounts.findOne({ id });
  acct.version++;
  await repo.save(acct);
}`,
      findings: [{ line: 11 }],
    },
  ],
});
