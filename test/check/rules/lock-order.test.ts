import { lockOrder } from "../../../src/check/rules/lock-order.js";
import { ruleTester } from "../rule-tester.js";
import { stubs } from "../stubs.js";

const ad = stubs("asyncdoctor");
const rl = stubs("redlock");
const redlock = `import Redlock from "redlock";
declare const redis: unknown;
const redlock = new Redlock([redis]);
`;
const am = stubs("async-mutex");
const makeMutex = `import { Mutex } from "async-mutex";
const makeMutex = () => {
  const mutex = new Mutex();
  return { mutex<T>(code: () => Promise<T> | T): Promise<T> { return mutex.runExclusive(code); } };
};
`;

ruleTester(lockOrder, {
  valid: [
    {
      name: "redlock: two resources taken in the same order on both paths",
      files: rl,
      code:
        redlock +
        `async function a() { const x = await redlock.acquire(["lock:a"], 1000); try { const y = await redlock.acquire(["lock:b"], 1000); await y.release(); } finally { await x.release(); } }
async function b() { const x = await redlock.acquire(["lock:a"], 1000); try { const y = await redlock.acquire(["lock:b"], 1000); await y.release(); } finally { await x.release(); } }`,
    },
    {
      name: "redlock: keys that vary (parameters) cannot be ordered",
      files: rl,
      code:
        redlock +
        `async function a(k: string, j: string) { const x = await redlock.acquire([k], 1000); try { const y = await redlock.acquire([j], 1000); await y.release(); } finally { await x.release(); } }
async function b(k: string, j: string) { const x = await redlock.acquire([j], 1000); try { const y = await redlock.acquire([k], 1000); await y.release(); } finally { await x.release(); } }`,
    },
    {
      name: "the seed's fix: both paths take a before b",
      files: am,
      code: `import { Mutex } from "async-mutex";
const lockA = new Mutex();
const lockB = new Mutex();
export async function coroutine1Fixed() {
  await lockA.runExclusive(async () => { await lockB.runExclusive(async () => console.log("1")); });
}
export async function coroutine2Fixed() {
  await lockA.runExclusive(async () => { await lockB.runExclusive(async () => console.log("2")); });
}`,
    },
    {
      name: "lockAll takes both in one canonical order",
      files: ad,
      code: `import { Mutex, lockAll } from "asyncdoctor";
const accounts = new Mutex();
const audit = new Mutex();
export async function transfer() { await lockAll([accounts, audit], async () => 1); }
export async function report() { await lockAll([audit, accounts], async () => 2); }`,
    },
    {
      name: "one lock released before the other is taken",
      files: am,
      code: `import { Mutex } from "async-mutex";
const a = new Mutex();
const b = new Mutex();
export async function one() { await a.runExclusive(async () => { await b.runExclusive(() => 1); }); }
export async function two() {
  const release = await b.acquire();
  try { console.log("b"); } finally { release(); }
  await a.runExclusive(() => 2);
}`,
    },
    {
      name: "the opposite order only in work that is not waited for",
      files: am,
      code: `import { Mutex } from "async-mutex";
const a = new Mutex();
const b = new Mutex();
export async function one() { await a.runExclusive(async () => { await b.runExclusive(() => 1); }); }
export async function two() { await b.runExclusive(async () => { void a.runExclusive(() => 2); }); }`,
    },
    {
      name: "a gate lock held around both paths serialises them",
      files: am,
      code: `import { Mutex } from "async-mutex";
const gate = new Mutex();
const a = new Mutex();
const b = new Mutex();
export async function one() { await gate.runExclusive(() => a.runExclusive(() => b.runExclusive(() => 1))); }
export async function two() { await gate.runExclusive(() => b.runExclusive(() => a.runExclusive(() => 2))); }`,
    },
    {
      name: "the same order across a helper call",
      files: am,
      code: `import { Mutex } from "async-mutex";
const a = new Mutex();
const b = new Mutex();
async function underB() { return b.runExclusive(() => 1); }
export async function one() { await a.runExclusive(() => underB()); }
export async function two() { await a.runExclusive(async () => { await b.runExclusive(() => 2); }); }`,
    },
    {
      name: "a re-entrant acquire through another lock is nested-acquire's, not an order",
      files: ad,
      code: `import { Mutex, Semaphore } from "asyncdoctor";
const sem = new Semaphore(1);
const other = new Mutex();
export async function f() { await sem.runExclusive(() => other.runExclusive(() => sem.runExclusive(() => 1))); }`,
    },
    {
      name: "a re-entrant acquire inside callbacks gathered by Promise.all",
      files: ad,
      code: `import { Mutex, Semaphore } from "asyncdoctor";
const sem = new Semaphore(1);
const other = new Mutex();
export async function f(xs: number[]) {
  await sem.runExclusive(() => Promise.all(xs.map(async (x) => other.runExclusive(() => sem.runExclusive(() => x)))));
}`,
    },
    {
      name: "queues that never make anyone wait",
      files: stubs("p-queue"),
      code: `import PQueue from "p-queue";
const q1 = new PQueue();
const q2 = new PQueue();
export async function one() { await q1.add(() => q2.add(() => 1)); }
export async function two() { await q2.add(() => q1.add(() => 2)); }`,
    },
    {
      name: "the bank transfer between disjoint pairs of accounts",
      files: ad,
      code: `import { Mutex } from "asyncdoctor";
class Account {
  readonly lock = new Mutex();
  balance = 0;
  async transferTo(other: Account, n: number) {
    await this.lock.runExclusive(async () => {
      await other.lock.runExclusive(async () => { this.balance -= n; other.balance += n; });
    });
  }
}
const alice = new Account();
const bob = new Account();
const carol = new Account();
export async function payRent() { await alice.transferTo(bob, 10); }
export async function tip() { await carol.transferTo(alice, 1); }`,
    },
    {
      name: "fields of two different classes",
      files: ad,
      code: `import { Mutex } from "asyncdoctor";
export class Orders {
  readonly a = new Mutex();
  readonly b = new Mutex();
  async run() { await this.a.runExclusive(() => this.b.runExclusive(() => 1)); }
}
export class Invoices {
  readonly a = new Mutex();
  readonly b = new Mutex();
  async run() { await this.b.runExclusive(() => this.a.runExclusive(() => 2)); }
}`,
    },
    {
      name: "two factory-made mutexes always taken in one order",
      files: am,
      code: `${makeMutex}const devices = makeMutex();
const messages = makeMutex();
export async function a() { await devices.mutex(async () => { await messages.mutex(async () => 1); }); }
export async function b() { await devices.mutex(async () => { await messages.mutex(async () => 2); }); }`,
    },
  ],
  invalid: [
    {
      name: "redlock: two fixed resources taken in opposite orders (node-redlock#305)",
      files: rl,
      code:
        redlock +
        `async function a() {
  const x = await redlock.acquire(["lock:accounts"], 1000);
  try { const y = await redlock.acquire(["lock:audit"], 1000); await y.release(); } finally { await x.release(); }
}
async function b() {
  const x = await redlock.acquire(["lock:audit"], 1000);
  try {
    const y = await redlock.acquire(["lock:accounts"], 1000);
    await y.release();
  } finally { await x.release(); }
}`,
      findings: [{ line: 11, summary: /taken in opposite orders/ }],
    },
    {
      name: "the seed's 2.2: two functions, opposite orders",
      files: am,
      code: `import { Mutex } from "async-mutex";
const lockA = new Mutex();
const lockB = new Mutex();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export async function coroutine1() {
  await lockA.runExclusive(async () => {
    await sleep(100);
    await lockB.runExclusive(async () => console.log("1"));
  });
}
export async function coroutine2() {
  await lockB.runExclusive(async () => {
    await sleep(100);
    await lockA.runExclusive(async () => console.log("2"));
  });
}`,
      findings: [
        { line: 14, summary: /`lockB` and `lockA` are taken in opposite orders.*main.ts:8/, fix: /take `lockA` before `lockB`.*lockAll\(\[lockA, lockB\]\)/ },
      ],
    },
    {
      name: "class fields, one order through a helper method",
      files: ad,
      code: `import { Mutex } from "asyncdoctor";
export class Bank {
  private readonly accounts = new Mutex();
  private readonly audit = new Mutex();
  async transfer() {
    await this.accounts.runExclusive(async () => { await this.log(); });
  }
  private async log() { await this.audit.runExclusive(() => 1); }
  async review() {
    await this.audit.runExclusive(async () => {
      await this.accounts.runExclusive(() => 2);
    });
  }
}`,
      findings: [{ line: 11, summary: /`this.audit` and `this.accounts`.* via Bank.log\(\)/, fix: /take `this.accounts` before `this.audit`/ }],
    },
    {
      name: "acquire()/release() on one path, runExclusive on the other",
      files: am,
      code: `import { Mutex } from "async-mutex";
const users = new Mutex();
const stats = new Mutex();
export async function a() {
  const release = await users.acquire();
  try {
    await stats.runExclusive(() => 1);
  } finally {
    release();
  }
}
export async function b() {
  await stats.runExclusive(async () => {
    const release = await users.acquire();
    release();
  });
}`,
      findings: [{ line: 14 }],
    },
    {
      name: "two limiters nested in opposite orders",
      files: stubs("p-limit"),
      code: `import pLimit from "p-limit";
const db = pLimit(4);
const api = pLimit(2);
export async function sync(id: string) { return db(() => api(async () => id)); }
export async function push(id: string) { return api(() => db(async () => id)); }`,
      findings: [{ line: 5, summary: /`db` and `api`|`api` and `db`/ }],
    },
    {
      name: "locks from another module, both orders through calls",
      files: {
        ...am,
        "locks.ts": `import { Mutex } from "async-mutex";
export const inventory = new Mutex();
export const ledger = new Mutex();`,
      },
      code: `import { inventory, ledger } from "./locks.js";
async function book() { await ledger.runExclusive(() => 1); }
async function count() { await inventory.runExclusive(() => 2); }
export async function sell() { await inventory.runExclusive(() => book()); }
export async function close() { await ledger.runExclusive(() => count()); }`,
      findings: [{ line: 5, summary: /via count\(\)/ }],
    },
    {
      name: "the path that breaks the order most paths keep is the one reported, wherever it is",
      files: am,
      code: `import { Mutex } from "async-mutex";
const a = new Mutex();
const b = new Mutex();
export async function bugInverted() { await b.runExclusive(() => a.runExclusive(() => 0)); }
export async function fixedOne() { await a.runExclusive(() => b.runExclusive(() => 1)); }
export async function fixedTwo() { await a.runExclusive(() => b.runExclusive(() => 2)); }`,
      findings: [{ line: 4, fix: /take `a` before `b`/ }],
    },
    {
      name: "the bank transfer: one method, called with the accounts in both orders",
      files: ad,
      code: `import { Mutex } from "asyncdoctor";
class Account {
  readonly lock = new Mutex();
  balance = 0;
  async transferTo(other: Account, n: number) {
    await this.lock.runExclusive(async () => {
      await other.lock.runExclusive(async () => { this.balance -= n; other.balance += n; });
    });
  }
}
const alice = new Account();
const bob = new Account();
export async function payRent() { await alice.transferTo(bob, 10); }
export async function refund() { await bob.transferTo(alice, 10); }`,
      findings: [{ line: 14, summary: /`alice.lock` and `bob.lock`|`bob.lock` and `alice.lock`/, fix: /lockAll/ }],
    },
    {
      name: "a semaphore and a mutex",
      files: ad,
      code: `import { Mutex, Semaphore } from "asyncdoctor";
const conns = new Semaphore(1);
const cache = new Mutex();
export async function load() { await conns.runExclusive(() => cache.runExclusive(() => 1)); }
export async function evict() { await cache.runExclusive(() => conns.runExclusive(() => 2)); }`,
      findings: [{ line: 5 }],
    },
    {
      name: "two factory-made mutexes taken in opposite orders (Baileys' makeMutex)",
      files: am,
      code: `${makeMutex}const devices = makeMutex();
const messages = makeMutex();
export async function a() { await devices.mutex(async () => { await messages.mutex(async () => 1); }); }
export async function b() { await messages.mutex(async () => { await devices.mutex(async () => 2); }); }`,
      findings: [{ line: 9, summary: /`messages.mutex` and `devices.mutex` are taken in opposite orders/ }],
    },
  ],
});
