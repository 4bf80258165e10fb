import { nestedAcquire } from "../../../src/check/rules/nested-acquire.js";
import { ruleTester } from "../rule-tester.js";
import { stubs } from "../stubs.js";

const ad = stubs("asyncdoctor");
const am = stubs("async-mutex");
const makeMutex = `import { Mutex } from "async-mutex";
const makeMutex = () => {
  const mutex = new Mutex();
  return { mutex<T>(code: () => Promise<T> | T): Promise<T> { return mutex.runExclusive(code); } };
};
`;
const al = stubs("async-lock");

const mortice = {
  "node_modules/mortice/package.json": `{"name":"mortice","types":"index.d.ts"}`,
  "node_modules/mortice/index.d.ts": `export interface Release { (): void }
export interface Mortice { readLock(): Promise<Release>; writeLock(): Promise<Release> }
export default function createMortice(options?: { name?: string }): Mortice;`,
};
const mHead = `import mortice from "mortice";
const lock = mortice({ name: "store" });
const other = mortice({ name: "other" });
const blocks = new Map<string, string>();
async function* getMany(ids: string[]) {
  const release = await lock.readLock();
  try { for (const id of ids) yield blocks.get(id); } finally { release(); }
}
async function gc() { const release = await lock.writeLock(); try { blocks.clear(); } finally { release(); } }
async function peek() { const release = await lock.readLock(); try { return blocks.size; } finally { release(); } }
`;
const authClient = (notify: string) => `class AuthClient {
  private tail: Promise<unknown> = Promise.resolve();
  private subscribers: Array<(event: string) => Promise<void> | void> = [];
  private session = "t0";
  private acquireLock<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
  onAuthStateChange(cb: (event: string) => Promise<void> | void) { this.subscribers.push(cb); }
  getSession() { return this.acquireLock(async () => this.session); }
  peek() { return this.session; }
  refreshSession() {
    return this.acquireLock(async () => {
      this.session = "t1";
      ${notify}
    });
  }
}
const auth = new AuthClient();
`;
const awaitsAll = `await Promise.all(this.subscribers.map((cb) => cb("REFRESHED")));`;
const amHead = `import { Mutex, Semaphore } from "async-mutex";\nconst m = new Mutex();\nconst n = new Mutex();\n`;

ruleTester(nestedAcquire, {
  valid: [
    {
      name: "a listener awaited under the lock that does not take it",
      code: authClient(awaitsAll) + `auth.onAuthStateChange(async () => { console.log(auth.peek()); });`,
    },
    {
      name: "listeners notified without being awaited under the lock",
      code: authClient(`this.subscribers.forEach((cb) => { void cb("REFRESHED"); });`) + `auth.onAuthStateChange(async () => { await auth.getSession(); });`,
    },
    {
      name: "a listener that takes another lock",
      files: am,
      code:
        `import { Mutex } from "async-mutex";\nconst other = new Mutex();\n` +
        authClient(awaitsAll) +
        `auth.onAuthStateChange(async () => { await other.runExclusive(async () => 1); });`,
    },
    {
      name: "for await over a generator holding a read lock: a read in the loop (readers share)",
      files: mortice,
      code: mHead + `export async function f() { for await (const b of getMany(["a"])) { console.log(b, await peek()); } }`,
    },
    {
      name: "for await over a generator holding a read lock: the write after the loop",
      files: mortice,
      code: mHead + `export async function f() { const all = []; for await (const b of getMany(["a"])) all.push(b); await gc(); return all; }`,
    },
    {
      name: "for await over a generator that releases before it yields",
      files: mortice,
      code:
        mHead +
        `async function* each(ids: string[]) { for (const id of ids) { const release = await lock.readLock(); const b = blocks.get(id); release(); yield b; } }\nexport async function f() { for await (const b of each(["a"])) { await gc(); console.log(b); } }`,
    },
    {
      name: "for await over a generator holding one lock, another lock taken in the loop",
      files: mortice,
      code: mHead + `export async function f() { for await (const b of getMany(["a"])) { const r = await other.writeLock(); r(); console.log(b); } }`,
    },
    {
      name: "Promise.all: a scoped run and a wait for unlock (the run releases by itself)",
      files: am,
      code: amHead + `export async function f() { await Promise.all([m.runExclusive(async () => 1), m.waitForUnlock()]); }`,
    },
    {
      name: "Promise.all: two different mutexes acquired together",
      files: am,
      code: amHead + `export async function f() { const [a, b] = await Promise.all([m.acquire(), n.acquire()]); a(); b(); }`,
    },
    {
      name: "Promise.all: a semaphore's permits taken together",
      files: am,
      code: amHead + `const s = new Semaphore(2);\nexport async function f() { await Promise.all([s.acquire(), s.acquire()]); }`,
    },
    {
      name: "Promise.all of an acquire and a wait for unlock, kept and not awaited here",
      files: am,
      code: amHead + `export function f() { const both = Promise.all([m.acquire(), m.waitForUnlock()]); return [both]; }`,
    },
    {
      name: "the seed's fix: the inner work does not take the semaphore again",
      files: ad,
      code: `import { Semaphore } from "asyncdoctor";
const sem = new Semaphore(1);
async function innerNoSem() { console.log("inner"); }
export async function outerFixed() {
  await sem.runExclusive(async () => { await innerNoSem(); });
}`,
    },
    {
      name: "released before the second acquire",
      files: am,
      code: `import { Mutex } from "async-mutex";
const mutex = new Mutex();
export async function twice(items: string[]) {
  const release = await mutex.acquire();
  try { items.push("a"); } finally { release(); }
  await mutex.runExclusive(() => items.push("b"));
}`,
    },
    {
      name: "two different locks",
      files: am,
      code: `import { Mutex } from "async-mutex";
const a = new Mutex();
const b = new Mutex();
export async function both() {
  await a.runExclusive(async () => { await b.runExclusive(async () => 1); });
}`,
    },
    {
      name: "the inner acquire is spawned, not waited: the holder finishes and releases",
      files: am,
      code: `import { Mutex } from "async-mutex";
const m = new Mutex();
async function later() { await m.runExclusive(async () => 2); }
export async function kick() {
  await m.runExclusive(async () => { void later(); setTimeout(() => { void m.runExclusive(() => 3); }, 10); });
}`,
    },
    {
      name: "another instance's lock, passed as a parameter",
      files: ad,
      code: `import { Mutex } from "asyncdoctor";
export class Account {
  private readonly lock = new Mutex();
  balance = 0;
  async deposit(n: number) { await this.lock.runExclusive(() => { this.balance += n; }); }
  async moveTo(other: Account, n: number) {
    await this.lock.runExclusive(async () => { this.balance -= n; await other.deposit(n); });
  }
}`,
    },
    {
      name: "readers share a read-write lock",
      files: ad,
      code: `import { RWLock } from "asyncdoctor";
const rw = new RWLock();
async function lookup() { return rw.runRead(() => 1); }
export async function report() { return rw.runRead(async () => (await lookup()) + 1); }`,
    },
    {
      name: "a p-queue without a concurrency runs everything at once",
      files: stubs("p-queue"),
      code: `import PQueue from "p-queue";
const queue = new PQueue();
export async function job() { return queue.add(async () => queue.add(async () => 1)); }`,
    },
    {
      name: "a separate limiter for the inner work",
      files: stubs("p-limit"),
      code: `import pLimit from "p-limit";
const outer = pLimit(2);
const inner = pLimit(4);
export async function crawl(urls: string[]) {
  return Promise.all(urls.map((u) => outer(async () => Promise.all([u, u].map((x) => inner(async () => x.length))))));
}`,
    },
    {
      name: "a user class that merely has a runExclusive method is not a lock",
      code: `class Batch { async runExclusive<T>(fn: () => Promise<T>) { return fn(); } }
const b = new Batch();
export async function go() { await b.runExclusive(async () => b.runExclusive(async () => 1)); }`,
    },
    {
      name: "a lock created per call: each recursion level has its own",
      files: am,
      code: `import { Mutex } from "async-mutex";
export async function walk(depth: number): Promise<number> {
  const m = new Mutex();
  return m.runExclusive(async () => (depth > 0 ? walk(depth - 1) : 0));
}`,
    },
    {
      name: "a \`using\` hold ends with its block",
      files: ad,
      code: `import { Mutex } from "asyncdoctor";
const m = new Mutex();
export async function step() {
  {
    using _held = await m.acquire();
  }
  await m.runExclusive(() => 1);
}`,
    },
    {
      name: "a program helper that runs callbacks under the lock, used one after the other",
      files: am,
      code: `import { Mutex } from "async-mutex";
const mutex = new Mutex();
async function locked<T>(fn: () => Promise<T>): Promise<T> {
  const release = await mutex.acquire();
  try { return await fn(); } finally { release(); }
}
export async function save(x: number) {
  const a = await locked(async () => x);
  return locked(async () => a + 1);
}`,
    },
    {
      name: "the lock's own release() ends the hold (async-mutex)",
      files: am,
      code: `import { Semaphore } from "async-mutex";
const sem = new Semaphore(1);
async function inner() { await sem.runExclusive(() => 1); }
export async function outer() {
  await sem.acquire();
  sem.release();
  await inner();
}`,
    },
    {
      name: "a hold taken with .then(release => …) lives in that callback, not in the flow after it",
      files: am,
      code: `import { Mutex } from "async-mutex";
const m = new Mutex();
export async function step(log: string[]) {
  await m.acquire().then((release) => { try { log.push("a"); } finally { release(); } });
  await m.runExclusive(() => log.push("b"));
}`,
    },
    {
      name: "two mutexes made by one factory are two locks (Baileys' makeMutex)",
      files: am,
      code: `${makeMutex}const messages = makeMutex();
const receipts = makeMutex();
export async function handle() {
  await messages.mutex(async () => { await receipts.mutex(async () => 1); });
}`,
    },
    {
      name: "a keyed lock taken again with another key",
      files: al,
      code: `import AsyncLock from "async-lock";
const lock = new AsyncLock();
export async function move() {
  await lock.acquire("from", async () => { await lock.acquire("to", async () => 1); });
}`,
    },
    {
      name: "a keyed lock taken again with keys that may differ (parameters)",
      files: al,
      code: `import AsyncLock from "async-lock";
const lock = new AsyncLock();
export async function move(a: string, b: string) {
  await lock.acquire(a, async () => { await lock.acquire(b, async () => 1); });
}`,
    },
    {
      name: "a wrapper's lock taken again only on a branch the caller's literal argument rules out",
      files: am,
      code: `import { Mutex } from "async-mutex";
const m = new Mutex();
async function refresh(fromInit: boolean) {
  if (!fromInit) await m.runExclusive(async () => 1);
}
export async function init() {
  await m.runExclusive(async () => { await refresh(true); });
}`,
    },
  ],
  invalid: [
    {
      name: "a listener awaited under the lock takes the lock again through a method (auth-js#762)",
      code:
        authClient(awaitsAll) +
        `auth.onAuthStateChange(async (event) => {\n  if (event === "REFRESHED") {\n    const s = await auth.getSession();\n    console.log(s);\n  }\n});`,
      findings: [
        {
          line: 23,
          summary: /in a listener registered with `auth\.onAuthStateChange\(…\)`, and the holder of `this\.acquireLock` at main\.ts:14 awaits those listeners/,
        },
      ],
    },
    {
      name: "listeners awaited one by one under an async-mutex lock, one of them takes it",
      files: am,
      code: `import { Mutex } from "async-mutex";
class Bus {
  private m = new Mutex();
  private handlers: Array<() => Promise<void>> = [];
  on(h: () => Promise<void>) { this.handlers.push(h); }
  async publish() {
    await this.m.runExclusive(async () => {
      for (const h of this.handlers) await h();
    });
  }
  async read() { return this.m.runExclusive(async () => 1); }
}
const bus = new Bus();
bus.on(async () => {
  await bus.read();
});`,
      findings: [{ line: 15 }],
    },
    {
      name: "for await over a generator holding a read lock, a write lock taken through a call in the loop (helia#99)",
      files: mortice,
      code: mHead + `export async function f() {\n  for await (const b of getMany(["a"])) {\n    await gc();\n    console.log(b);\n  }\n}`,
      findings: [{ line: 13, summary: /taken for writing here \(via gc\(\)\) inside `for await` over getMany\(\), which holds it for reading/ }],
    },
    {
      name: "for await over a generator holding a mutex, the mutex acquired in the loop",
      files: am,
      code: `import { Mutex } from "async-mutex";\nconst m = new Mutex();\nasync function* rows() {\n  const release = await m.acquire();\n  try { yield 1; yield 2; } finally { release(); }\n}\nexport async function f() {\n  for await (const r of rows()) {\n    const release = await m.acquire();\n    release();\n    console.log(r);\n  }\n}`,
      findings: [{ line: 9 }],
    },
    {
      name: "Promise.all: acquire and waitForUnlock of one mutex together (async-mutex#88)",
      files: am,
      code: amHead + `export async function f() {\n  await Promise.all([m.acquire(), m.waitForUnlock()]);\n  m.release();\n}`,
      findings: [{ line: 5, summary: /`m\.waitForUnlock\(\)` waits for it to be free/, fix: /before the acquire/ }],
    },
    {
      name: "Promise.all: one mutex acquired twice together",
      files: am,
      code: amHead + `export async function f() {\n  return Promise.all([m.acquire(), m.acquire()]);\n}`,
      findings: [{ line: 5, summary: /takes it again/ }],
    },
    {
      name: "the seed's 2.1: the holder calls a function that takes the same semaphore",
      files: ad,
      code: `import { Semaphore } from "asyncdoctor";
const sem = new Semaphore(1);
async function inner() {
  await sem.runExclusive(async () => { console.log("inner"); });
}
export async function outer() {
  await sem.runExclusive(async () => {
    await inner();
  });
}`,
      findings: [{ line: 8, summary: /semaphore `sem` is acquired again .* via inner\(\): it waits for itself/, fix: /variant of inner\(\)/ }],
    },
    {
      name: "directly nested runExclusive (async-mutex)",
      files: am,
      code: `import { Mutex } from "async-mutex";
const mutex = new Mutex();
export async function save() {
  await mutex.runExclusive(async () => {
    await mutex.runExclusive(async () => 1);
  });
}`,
      findings: [{ line: 5, summary: /mutex `mutex` is acquired again/ }],
    },
    {
      name: "acquire()/release() hold, then a helper two calls deep",
      files: am,
      code: `import { Mutex } from "async-mutex";
const m = new Mutex();
async function c() { return m.runExclusive(() => 3); }
async function b() { return (await c()) + 1; }
export async function a() {
  const release = await m.acquire();
  try {
    await b();
  } finally {
    release();
  }
}`,
      findings: [{ line: 8, summary: /via b\(\) → c\(\)/ }],
    },
    {
      name: "a p-limit limiter used inside a function it runs",
      files: stubs("p-limit"),
      code: `import pLimit from "p-limit";
const limit = pLimit(2);
export async function fetchAll(ids: string[]) {
  return Promise.all(ids.map((id) => limit(async () => {
    const parts = await Promise.all([1, 2].map((p) => limit(async () => id + p)));
    return parts.join();
  })));
}`,
      findings: [{ line: 5, summary: /limiter `limit` runs a function that waits for `limit` again: when all 2 slots/, fix: /separate limiter/ }],
    },
    {
      name: "a p-queue with concurrency 1: a job waits for a job added behind it",
      files: stubs("p-queue"),
      code: `import PQueue from "p-queue";
const queue = new PQueue({ concurrency: 1 });
export async function job() {
  await queue.add(async () => {
    await queue.add(async () => "inner");
  });
}`,
      findings: [{ line: 5, summary: /queue `queue`/ }],
    },
    {
      name: "a class field taken by a method and by the method it calls",
      files: ad,
      code: `import { Mutex } from "asyncdoctor";
export class Cache {
  private readonly lock = new Mutex();
  private data = new Map<string, string>();
  async refresh(k: string) { await this.lock.runExclusive(async () => { this.data.set(k, await this.load(k)); }); }
  private async load(k: string) { return this.lock.runExclusive(async () => this.data.get(k) ?? k); }
}`,
      findings: [{ line: 5, summary: /`this.lock` .* via Cache.load\(\)/ }],
    },
    {
      name: "the lock passed down as a parameter",
      files: am,
      code: `import { Mutex } from "async-mutex";
async function write(m: Mutex, v: number) { await m.runExclusive(() => v); }
export async function handler(lock: Mutex) {
  await lock.runExclusive(async () => {
    await write(lock, 1);
  });
}`,
      findings: [{ line: 5, summary: /`lock` .* via write\(\)/ }],
    },
    {
      name: "withTimeout wraps the same mutex",
      files: am,
      code: `import { Mutex, withTimeout } from "async-mutex";
const mutex = new Mutex();
const timed = withTimeout(mutex, 1000);
export async function go() {
  await mutex.runExclusive(async () => {
    await timed.runExclusive(async () => 1);
  });
}`,
      findings: [{ line: 6, summary: /`mutex`/ }],
    },
    {
      name: "lockAll holds both; one of them is taken again",
      files: ad,
      code: `import { Mutex, lockAll } from "asyncdoctor";
const accounts = new Mutex();
const audit = new Mutex();
export async function close() {
  await lockAll([accounts, audit], async () => {
    await audit.runExclusive(() => 1);
  });
}`,
      findings: [{ line: 6, summary: /`audit`/ }],
    },
    {
      name: "a writer inside a reader of the same read-write lock",
      files: ad,
      code: `import { RWLock } from "asyncdoctor";
const rw = new RWLock();
export async function upgrade() {
  return rw.runRead(async () => {
    return rw.runWrite(() => 2);
  });
}`,
      findings: [{ line: 5, summary: /read-write lock `rw`/ }],
    },
    {
      name: "a semaphore with several permits, nested through acquire()",
      files: am,
      code: `import { Semaphore } from "async-mutex";
const slots = new Semaphore(3);
export async function work() {
  const [, release] = await slots.acquire();
  try {
    await slots.runExclusive(async () => 1);
  } finally {
    release();
  }
}`,
      findings: [{ line: 6, summary: /when every permit is held by such holders/ }],
    },
    {
      name: "a callback handed to a helper that runs it while the holder waits",
      files: am,
      code: `import { Mutex } from "async-mutex";
const m = new Mutex();
async function retry<T>(fn: () => Promise<T>): Promise<T> { try { return await fn(); } catch { return await fn(); } }
export async function go() {
  await m.runExclusive(async () => {
    await retry(() => m.runExclusive(async () => 1));
  });
}`,
      findings: [{ line: 6 }],
    },
    {
      name: "closures sharing a semaphore created by their enclosing function (a demo's run())",
      files: ad,
      code: `import { Semaphore } from "asyncdoctor";
export async function run() {
  const sem = new Semaphore(1);
  const bugInner = async () => { await sem.runExclusive(async () => 1); };
  const bugOuter = async () => {
    await sem.runExclusive(async () => { await bugInner(); });
  };
  await bugOuter();
}`,
      findings: [{ line: 6, summary: /`sem`.* via bugInner\(\)/ }],
    },
    {
      name: "a program helper that runs callbacks under the lock, called from such a callback",
      files: am,
      code: `import { Mutex } from "async-mutex";
const mutex = new Mutex();
async function locked<T>(fn: () => Promise<T>): Promise<T> {
  const release = await mutex.acquire();
  try { return await fn(); } finally { release(); }
}
export async function save(x: number) {
  return locked(async () => {
    await locked(async () => x);
  });
}`,
      findings: [{ line: 9, summary: /`mutex`.* via locked\(\)/ }],
    },
    {
      name: "asyncdoctor checking its own sources: primitives from src/sync",
      files: {
        "src/sync/mutex.ts": `export class Mutex {
  private locked = false;
  async runExclusive<T>(fn: () => T | Promise<T>): Promise<T> { this.locked = true; try { return await fn(); } finally { this.locked = false; } }
}`,
      },
      code: `import { Mutex } from "./src/sync/mutex.js";
const m = new Mutex();
export async function bugNested() {
  await m.runExclusive(async () => {
    await m.runExclusive(() => 1);
  });
}`,
      findings: [{ line: 5, summary: /mutex `m`/ }],
    },
    {
      name: "inside an async callback that an awaited library call runs",
      files: {
        ...am,
        "node_modules/p-retry/package.json": '{"name":"p-retry","types":"index.d.ts"}',
        "node_modules/p-retry/index.d.ts":
          "export default function pRetry<T>(input: (attempt: number) => PromiseLike<T> | T, options?: { retries?: number }): Promise<T>;",
      },
      code: `import { Mutex } from "async-mutex";
import pRetry from "p-retry";
const m = new Mutex();
export async function save() {
  await m.runExclusive(async () => {
    await pRetry(async () => m.runExclusive(async () => 1), { retries: 3 });
  });
}`,
      findings: [{ line: 6 }],
    },
    {
      name: "a factory-made mutex taken again by its holder (Baileys' makeMutex)",
      files: am,
      code: `${makeMutex}const messages = makeMutex();
async function upsert() { await messages.mutex(async () => 2); }
export async function handle() {
  await messages.mutex(async () => { await upsert(); });
}`,
      findings: [{ line: 9, summary: /`messages.mutex` is acquired again while its holder still holds it .* via upsert\(\)/ }],
    },
    {
      name: "a keyed lock taken again with the same key",
      files: al,
      code: `import AsyncLock from "async-lock";
const lock = new AsyncLock();
export async function nested() {
  await lock.acquire("acct", async () => { await lock.acquire("acct", async () => 1); });
}`,
      findings: [{ line: 4 }],
    },
    {
      name: "a configured function type: lock(name, timeout, fn) taken again inside its callback",
      options: { locks: ["LockFunc"] },
      code: `export type LockFunc = <R>(name: string, timeout: number, fn: () => Promise<R>) => Promise<R>;
declare const lock: LockFunc;
export async function refresh() {
  await lock("session", -1, async () => { await lock("session", -1, async () => 1); });
}`,
      findings: [{ line: 4 }],
    },
    {
      name: "a promise-chain lock taken again inside its own callback",
      code: `let tail: Promise<unknown> = Promise.resolve();
function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const run = tail.then(fn);
  tail = run.catch(() => undefined);
  return run;
}
export async function outer() {
  await withLock(async () => { await withLock(async () => 1); });
}`,
      findings: [{ line: 8 }],
    },
  ],
});
