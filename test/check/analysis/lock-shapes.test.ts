import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyCall } from "../../../src/check/analysis/classify-call.js";
import { stubs } from "../stubs.js";
import { callsStarting, load } from "./helpers.js";

/** The innermost call starting with `call` (the last one in source order when `last`), classified. */
function classify(code: string, call: string, pkgs: string[] = [], which: "first" | "last" = "last"): string {
  const { checker, main } = load(code, stubs(...pkgs));
  const all = callsStarting(main, call);
  const c = which === "last" ? all.at(-1) : all[0];
  assert.ok(c, `no call starting with ${call}`);
  const u = classifyCall(c, checker);
  if (!u) return "none";
  return (
    [u.library, u.kind, u.mode, u.key ? `key=${u.key.getText()}` : "", u.opaque ? "opaque" : ""].filter(Boolean).join(" ") +
    ` @${u.targets.map((t) => t.getText()).join(",")}`
  );
}

const makeMutex = `import { Mutex } from "async-mutex";
export const makeMutex = () => {
  const mutex = new Mutex();
  return { mutex<T>(code: () => Promise<T> | T): Promise<T> { return mutex.runExclusive(code); } };
};`;

describe("lock-shapes: recognised by shape", () => {
  it("a factory's object whose method runs the callback under a mutex it made (Baileys' makeMutex)", () => {
    assert.equal(classify(`${makeMutex}\nconst m = makeMutex();\nvoid m.mutex(async () => 1);`, "m.mutex", ["async-mutex"]), "shape mutex scoped @m.mutex");
  });

  it("a keyed wrapper: the key is the argument its lock depends on", () => {
    const code = `import { Mutex } from "async-mutex";
const map = new Map<string, Mutex>();
export async function withKey<T>(key: string, task: () => Promise<T>): Promise<T> {
  let m = map.get(key);
  if (!m) { m = new Mutex(); map.set(key, m); }
  return await m.runExclusive(task);
}
void withKey("a", async () => 1);`;
    assert.equal(classify(code, "withKey(", ["async-mutex"]), `shape mutex scoped key="a" @withKey`);
  });

  it("a promise-chain lock: the tail kept outside the call is read and replaced", () => {
    const code = `let tail: Promise<unknown> = Promise.resolve();
export function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const run = tail.then(fn);
  tail = run.catch(() => undefined);
  return run;
}
void withLock(async () => 1);`;
    assert.equal(classify(code, "withLock("), "shape mutex scoped @withLock");
  });

  it("wrappers at depth: a method around a field of function type assigned a Web Locks wrapper (auth-js)", () => {
    const code = `type LockFunc = <R>(name: string, timeout: number, fn: () => Promise<R>) => Promise<R>;
async function navigatorLock<R>(name: string, timeout: number, fn: () => Promise<R>): Promise<R> {
  return await navigator.locks.request(name, { mode: "exclusive" }, async () => await fn());
}
async function lockNoOp<R>(name: string, timeout: number, fn: () => Promise<R>): Promise<R> { return await fn(); }
export class Client {
  protected lock: LockFunc;
  constructor(custom?: LockFunc) { this.lock = custom || (typeof navigator === "object" ? navigatorLock : lockNoOp); }
  private async acquireLock<R>(timeout: number, fn: () => Promise<R>): Promise<R> {
    return await this.lock("lock:client", timeout, async () => await fn());
  }
  async refresh() { return await this.acquireLock(-1, async () => 1); }
}`;
    assert.equal(classify(code, "this.lock(", []), `shape mutex scoped key="lock:client" @this.lock`);
    assert.equal(classify(code, "this.acquireLock(", []), "shape mutex scoped @this.acquireLock");
  });

  it("an object with acquire()/release() and one with lock()/unlock()", () => {
    const sem = `class Gate { constructor(readonly n: number) {} async acquire(): Promise<void> {} release(): void {} }
const g = new Gate(2);
export async function f() { await g.acquire(); g.release(); }`;
    assert.equal(classify(sem, "g.acquire", [], "first"), "shape semaphore handle @g");
    const mtx = `class Latch { async lock(): Promise<void> {} unlock(): void {} }
const l = new Latch();
export async function f() { await l.lock(); l.unlock(); }`;
    assert.equal(classify(mtx, "l.lock", [], "first"), "shape mutex handle @l");
  });

  it("a limiter factory whose returned (fn) => Promise counts in the factory's state", () => {
    const code = `export function makeLimiter(n: number) {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    while (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try { return await fn(); } finally { active--; queue.shift()?.(); }
  };
}
const limit = makeLimiter(2);
void limit(async () => 1);`;
    assert.equal(classify(code, "limit("), "shape limiter scoped @limit");
  });

  it("a pool whose connect() gives something with release() and whose query() takes its own", () => {
    const code = `interface Conn { query(sql: string): Promise<unknown>; release(): void }
interface MyPool { connect(): Promise<Conn>; query(sql: string): Promise<unknown> }
declare const pool: MyPool;
export async function f() { const c = await pool.connect(); await pool.query("x"); c.release(); }`;
    assert.equal(classify(code, "pool.connect", [], "first"), "shape pool handle @pool");
    assert.equal(classify(code, "pool.query", [], "first"), "shape pool query @pool");
  });
});

describe("lock-shapes: not mistaken for a lock", () => {
  it("a function that just runs its callback (a retry helper, a no-op lock)", () => {
    const code = `export async function retry<T>(fn: () => Promise<T>, times = 3): Promise<T> {
  for (let i = 0; ; i++) { try { return await fn(); } catch (e) { if (i >= times) throw e; } }
}
void retry(async () => 1);`;
    assert.equal(classify(code, "retry("), "none");
  });

  it("a helper that counts in its enclosing function but is not returned by a factory", () => {
    const code = `export function download(chunks: Uint8Array[]) {
  let fetched = 0;
  const pushBytes = (bytes: Uint8Array, push: (b: Uint8Array) => void) => { push(bytes); fetched += bytes.length; };
  for (const c of chunks) pushBytes(c, (b) => console.log(b));
  return fetched;
}`;
    assert.equal(classify(code, "pushBytes("), "none");
  });

  it("a wrapper around a module-level mutex is left to the walk (it sees that mutex itself)", () => {
    const code = `import { Mutex } from "async-mutex";
const lock = new Mutex();
export function withLock<T>(fn: () => Promise<T>): Promise<T> { return lock.runExclusive(fn); }
void withLock(async () => 1);`;
    assert.equal(classify(code, "withLock(", ["async-mutex"]), "none");
  });

  it("an acquire() with no release(), or a synchronous lock()", () => {
    assert.equal(
      classify(
        `class Loader { async acquire(): Promise<string> { return "x"; } } const l = new Loader(); export async function f() { await l.acquire(); }`,
        "l.acquire",
        [],
        "first",
      ),
      "none",
    );
    assert.equal(
      classify(
        `class Flag { lock(): boolean { return true; } unlock(): void {} } const f = new Flag(); export function g() { f.lock(); f.unlock(); }`,
        "f.lock",
        [],
        "first",
      ),
      "none",
    );
  });

  it("a promise chained but not kept (`p.then(fn)`), and a cache of a promise", () => {
    const chain = `export function later<T>(p: Promise<unknown>, fn: () => T): Promise<T> { return p.then(fn); }
void later(Promise.resolve(), () => 1);`;
    assert.equal(classify(chain, "later("), "none");
    const cache = `let cached: Promise<number> | undefined;
export function load(fn: () => Promise<number>): Promise<number> { cached ??= fn(); return cached; }
void load(async () => 1);`;
    assert.equal(classify(cache, "load("), "none");
  });

  it("a pool-like object whose connect() gives nothing releasable", () => {
    const code = `interface Socket { write(s: string): void; close(): void }
interface Dialer { connect(): Promise<Socket>; query(s: string): Promise<unknown> }
declare const d: Dialer;
export async function f() { await d.connect(); await d.query("x"); }`;
    assert.equal(classify(code, "d.connect", [], "first"), "none");
  });
});
