/**
 * The read-await-write cases: correct code that must stay silent and racy code that must be
 * found. Shared by the rule's test and the bench that runs ESLint's require-atomic-updates on them.
 */
import type { InvalidCase, ValidCase } from "../rule-tester.js";
import { stubs } from "../stubs.js";

const ad = stubs("asyncdoctor");
const am = stubs("async-mutex");
const sleep = `const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));\n`;

export const readAwaitWriteCases: { readonly valid: readonly ValidCase[]; readonly invalid: readonly InvalidCase[] } = {
  valid: [
    {
      name: "the seed's fix: a lock held across the read and the write",
      files: am,
      code: `import { Mutex } from "async-mutex";
${sleep}let counter = 0;
const lock = new Mutex();
export async function incrementSafe() {
  await lock.runExclusive(async () => {
    const val = counter;
    await sleep(0);
    counter = val + 1;
  });
}`,
    },
    {
      name: "asyncdoctor Shared.update does the read-modify-write atomically",
      files: ad,
      code: `import { Shared } from "asyncdoctor";
${sleep}const counter = new Shared(0);
export async function increment() {
  await counter.update(async (v) => { await sleep(0); return v + 1; });
}`,
    },
    {
      name: "a Shared the function creates itself is private to the call",
      files: ad,
      code: `import { Shared } from "asyncdoctor";
${sleep}export async function local() {
  const cell = new Shared(0);
  const v = cell.get();
  await sleep(0);
  cell.set(v + 1);
  return cell.get();
}`,
    },
    {
      name: "a local of the function is private to the call",
      code: `${sleep}export async function sum(xs: number[]) {
  let total = 0;
  for (const x of xs) {
    const before = total;
    await sleep(x);
    total = before + x;
  }
  return total;
}`,
    },
    {
      name: "an object created by the function is private to the call",
      code: `${sleep}export async function tally(xs: number[]) {
  const acc = { n: 0 };
  for (const x of xs) {
    const n = acc.n;
    await sleep(x);
    acc.n = n + 1;
  }
  return acc;
}`,
    },
    {
      name: "re-read after the await: the update is made from the current value",
      code: `${sleep}let counter = 0;
export async function increment() {
  const before = counter;
  await sleep(0);
  counter = counter + 1;
  console.log(before, counter);
}`,
    },
    {
      name: "a write that does not derive from the read (load once, log the old state)",
      code: `let cache: string | undefined;
declare function load(): Promise<string>;
export class Job {
  status = "idle";
  async run() {
    const previous = this.status;
    if (!cache) cache = await load();
    this.status = "done";
    console.log(previous);
  }
}`,
    },
    {
      name: "a function that every caller calls under the same lock",
      files: am,
      code: `import { Mutex } from "async-mutex";
${sleep}let counter = 0;
const lock = new Mutex();
async function increment() {
  const v = counter;
  await sleep(0);
  counter = v + 1;
}
export async function a() { await lock.runExclusive(() => increment()); }
export async function b() { await lock.runExclusive(increment); }`,
    },
    {
      name: "acquire() and release() around it",
      files: ad,
      code: `import { Mutex } from "asyncdoctor";
${sleep}export class Wallet {
  private readonly lock = new Mutex();
  private balance = 0;
  async deposit(n: number) {
    const held = await this.lock.acquire();
    try {
      const b = this.balance;
      await sleep(1);
      this.balance = b + n;
    } finally {
      held.release();
    }
  }
}`,
    },
    {
      name: "compare-and-set: the write is guarded by a fresh check after the await",
      code: `${sleep}let version = 0;
export async function bump() {
  const seen = version;
  await sleep(5);
  if (version !== seen) return false;
  version = seen + 1;
  return true;
}`,
    },
    {
      name: "the old value is read after the await in the same expression",
      code: `declare function compute(): Promise<number>;
let total = 0;
export async function add() { total = (await compute()) + total; }`,
    },
    {
      name: "a parameter object belongs to the caller",
      code: `${sleep}interface Stats { hits: number }
export async function hit(stats: Stats) {
  const n = stats.hits;
  await sleep(1);
  stats.hits = n + 1;
}`,
    },
    {
      name: "a reference to the object, not a copy of the value, is read again after the await",
      code: `${sleep}const state = { count: 0 };
export async function inc() {
  const s = state;
  await sleep(1);
  state.count = s.count + 1;
}`,
    },
    {
      name: "a failed batch is merged back with what arrived meanwhile",
      code: `declare function send(items: string[]): Promise<void>;
let buffer: string[] = [];
export async function flush() {
  const items = buffer;
  buffer = [];
  try {
    await send(items);
  } catch {
    buffer = items.concat(buffer);
  }
}`,
    },
    {
      name: "save, change, await, put back: a restore, not an update",
      code: `declare function load(): Promise<void>;
export class View {
  state = "idle";
  async refresh() {
    const previous = this.state;
    this.state = "loading";
    try {
      await load();
      this.state = "ready";
    } catch {
      this.state = previous;
    }
  }
}`,
    },
    {
      name: "a local given what an awaited call returned holds fresh data",
      code: `declare function fetchPage(cursor: string): Promise<{ items: string[]; next: string | undefined }>;
export class Feed {
  cursor: string | undefined = "start";
  items: string[] = [];
  async more() {
    const cursor = this.cursor;
    if (!cursor) return;
    const page = await fetchPage(cursor);
    this.cursor = page.next;
  }
}`,
    },
    {
      name: "++ after the await is an atomic read-modify-write",
      code: `${sleep}let served = 0;
export async function serve() {
  const before = served;
  await sleep(1);
  served++;
  return before;
}`,
    },
    {
      name: "a parameter rewritten in the .catch callback of its own call: private to that call",
      code: `${sleep}type Msg = { id: string };
declare function download(m: Msg): Promise<Uint8Array>;
declare function reupload(m: Msg): Promise<Msg>;
export async function fetchMedia(message: Msg) {
  return await download(message).catch(async () => {
    message = await reupload(message);
    return download(message);
  });
}`,
    },
    {
      name: "a local rewritten in an immediately invoked async function of its own call",
      code: `${sleep}declare function step(n: number): Promise<number>;
export async function run(start: number) {
  let value = start;
  await (async () => {
    value = await step(value);
  })();
  return value;
}`,
    },
  ],
  invalid: [
    {
      name: "a local of the outer call written by callbacks that run concurrently (map under Promise.all)",
      code: `${sleep}declare function price(x: string): Promise<number>;
export async function total(items: string[]) {
  let sum = 0;
  await Promise.all(items.map(async (x) => {
    const before = sum;
    const p = await price(x);
    sum = before + p;
  }));
  return sum;
}`,
      findings: [{ line: 8, summary: /`sum` is written from its value read before an `await`/ }],
    },
    {
      name: "the seed's counter race, module-level",
      code: `${sleep}let counter = 0;
export async function increment() {
  const current = counter;
  await sleep(0);
  counter = current + 1;
}`,
      findings: [
        {
          line: 6,
          summary: /`counter` is written from its value read before an `await` \(read at main.ts:4, await at main.ts:5\)/,
          fix: /lock.runExclusive|shared.update/,
        },
      ],
    },
    {
      name: "the seed's demo: a captured outer variable",
      code: `${sleep}export async function demoRace() {
  let counterUnsafe = 0;
  async function incrementUnsafe() {
    const val = counterUnsafe;
    await sleep(0);
    counterUnsafe = val + 1;
  }
  await Promise.all(Array.from({ length: 20 }, () => incrementUnsafe()));
  return counterUnsafe;
}`,
      findings: [{ line: 7, summary: /`counterUnsafe`/ }],
    },
    {
      name: "this.balance = this.balance + await x",
      code: `declare function fetchInterest(): Promise<number>;
export class Account {
  balance = 0;
  async accrue() { this.balance = this.balance + await fetchInterest(); }
}`,
      findings: [{ line: 4, summary: /`this.balance`/, fix: /Await first/ }],
    },
    {
      name: "compound assignment with an await on the right",
      code: `declare function fetchDelta(): Promise<number>;
export class Account {
  balance = 0;
  async sync() { this.balance += await fetchDelta(); }
}`,
      findings: [{ line: 4, summary: /`this.balance \+= …` reads `this.balance` before an `await`/ }],
    },
    {
      name: "asyncdoctor Shared read with get() and written with set() across an await",
      files: ad,
      code: `import { Shared } from "asyncdoctor";
${sleep}const counter = new Shared(0);
export async function increment() {
  const v = counter.get();
  await sleep(0);
  counter.set(v + 1);
}`,
      findings: [{ line: 7, summary: /`counter`/ }],
    },
    {
      name: "a Shared passed in as a parameter is still shared (the counter-race demo's bug)",
      files: ad,
      code: `import { Shared } from "asyncdoctor";
${sleep}export async function bugSharedIncrement(shared: Shared<number>) {
  const current = shared.get();
  await sleep(0);
  shared.set(current + 1);
}`,
      findings: [{ line: 6, summary: /`shared`/ }],
    },
    {
      name: "an immutable update from a stale copy",
      code: `declare function persist(x: string): Promise<void>;
export class Store {
  private items: readonly string[] = [];
  async add(x: string) {
    const items = this.items;
    await persist(x);
    this.items = [...items, x];
  }
}`,
      findings: [{ line: 7, summary: /`this.items`/ }],
    },
    {
      name: "a destructured field of a module-level object",
      code: `${sleep}const stats = { hits: 0, misses: 0 };
export async function record() {
  const { hits } = stats;
  await sleep(1);
  stats.hits = hits + 1;
}`,
      findings: [{ line: 6, summary: /`stats.hits`/ }],
    },
    {
      name: "one caller holds the lock, another does not",
      files: am,
      code: `import { Mutex } from "async-mutex";
${sleep}let counter = 0;
const lock = new Mutex();
async function increment() {
  const v = counter;
  await sleep(0);
  counter = v + 1;
}
export async function a() { await lock.runExclusive(() => increment()); }
export async function b() { await increment(); }`,
      findings: [{ line: 8 }],
    },
    {
      name: "a reducer fed the old state",
      code: `declare function reduce(s: number[], a: string): Promise<number[]>;
let state: number[] = [];
export async function dispatch(action: string) { state = await reduce(state, action); }`,
      findings: [{ line: 3 }],
    },
    {
      name: "a limiter that admits four at once does not serialise",
      files: stubs("p-limit"),
      code: `import pLimit from "p-limit";
${sleep}const limit = pLimit(4);
let done = 0;
export function job() {
  return limit(async () => {
    const d = done;
    await sleep(1);
    done = d + 1;
  });
}`,
      findings: [{ line: 9 }],
    },
  ],
};
