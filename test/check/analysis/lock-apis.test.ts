import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ts from "typescript";
import { capacityOf, handleRegion, packageOfFile } from "../../../src/check/analysis/lock-apis.js";
import { classifyCall } from "../../../src/check/analysis/classify-call.js";
import { stubs } from "../stubs.js";
import { callsStarting, load } from "./helpers.js";

/** Classifies the first call starting with `call` in `code`: "kind mode method" or "none". */
function classify(code: string, call: string, ...pkgs: string[]): string {
  const { checker, main } = load(code, stubs(...pkgs));
  const c = callsStarting(main, call).at(-1); // the innermost: a chain starts with its root call
  assert.ok(c, `no call starting with ${call}`);
  const u = classifyCall(c, checker);
  return u ? `${u.kind} ${u.mode} ${u.method}${u.shared ? " shared" : ""}` : "none";
}

describe("lock-apis: classifyCall", () => {
  const cases: [string, string, string, string[]][] = [
    [
      `import { Mutex } from "asyncdoctor"; const m = new Mutex(); void m.runExclusive(() => 1);`,
      "m.runExclusive",
      "mutex scoped runExclusive",
      ["asyncdoctor"],
    ],
    [`import { Semaphore } from "asyncdoctor"; const s = new Semaphore(2); void s.acquire();`, "s.acquire", "semaphore handle acquire", ["asyncdoctor"]],
    [`import { RWLock } from "asyncdoctor"; const rw = new RWLock(); void rw.runRead(() => 1);`, "rw.runRead", "rwlock scoped runRead shared", ["asyncdoctor"]],
    [
      `import { Pool } from "asyncdoctor"; const p = new Pool({ create: () => 1, max: 1 }); void p.use(async (r) => r);`,
      "p.use",
      "pool scoped use",
      ["asyncdoctor"],
    ],
    [
      `import { Mutex, lockAll } from "asyncdoctor"; const a = new Mutex(), b = new Mutex(); void lockAll([a, b], () => 1);`,
      "lockAll",
      "mutex scoped lockAll",
      ["asyncdoctor"],
    ],
    [`import { Mutex } from "async-mutex"; const m = new Mutex(); void m.acquire();`, "m.acquire", "mutex handle acquire", ["async-mutex"]],
    [
      `import { Semaphore, withTimeout } from "async-mutex"; const s = withTimeout(new Semaphore(2), 10); void s.runExclusive(() => 1);`,
      "s.runExclusive",
      "semaphore scoped runExclusive",
      ["async-mutex"],
    ],
    [`import pLimit from "p-limit"; const limit = pLimit(1); void limit(async () => 1);`, "limit(", "limiter scoped limit", ["p-limit"]],
    [`import pLimit from "p-limit"; const limit = pLimit(1); void limit.map([1], async (x) => x);`, "limit.map", "limiter scoped map", ["p-limit"]],
    [`import PQueue from "p-queue"; const q = new PQueue({ concurrency: 1 }); void q.add(async () => 1);`, "q.add", "queue scoped add", ["p-queue"]],
    [
      `import { createPool } from "generic-pool"; const p = createPool({ create: async () => 1, destroy: async () => {} }); void p.acquire();`,
      "p.acquire",
      "pool handle acquire",
      ["generic-pool"],
    ],
    [`import { Pool } from "pg"; const pool = new Pool(); void pool.connect();`, "pool.connect", "pool handle connect", ["pg"]],
    [`import { Pool } from "pg"; const pool = new Pool(); void pool.query("select 1");`, "pool.query", "pool query query", ["pg"]],
    [`import { Pool } from "pg"; const pool = new Pool(); pool.connect((err, c, done) => done());`, "pool.connect", "none", ["pg"]],
    [
      `import { createPool } from "mysql2/promise"; const pool = createPool({}); void pool.getConnection();`,
      "pool.getConnection",
      "pool handle getConnection",
      ["mysql2"],
    ],
    [
      `import knex from "knex"; const db = knex({ client: "pg" }); void db.transaction(async (trx) => trx("t"));`,
      "db.transaction",
      "pool scoped transaction",
      ["knex"],
    ],
    [`import knex from "knex"; const db = knex({ client: "pg" }); void db("users").where({ id: 1 });`, "db(", "pool query db", ["knex"]],
    [
      `import knex, { type Knex } from "knex"; const db = knex({ client: "pg" }); declare const trx: Knex.Transaction; void db("users").where({ id: 1 }).transacting(trx);`,
      "db(",
      "none",
      ["knex"],
    ],
    [`import knex, { type Knex } from "knex"; declare const trx: Knex.Transaction; void trx("users");`, "trx(", "none", ["knex"]],
    [
      `class Mutex { async runExclusive(fn: () => number) { return fn(); } } const m = new Mutex(); void m.runExclusive(() => 1);`,
      "m.runExclusive",
      "none",
      [],
    ],
    [`const m = new Map<string, number>(); m.set("a", 1); void m.get("a");`, "m.get", "none", []],
  ];
  for (const [code, call, expected, pkgs] of cases) {
    it(`${call} (${pkgs.join(", ") || "no library"}) → ${expected}`, () => assert.equal(classify(code, call, ...pkgs), expected));
  }
});

describe("lock-apis: packageOfFile", () => {
  it("reads the package from node_modules paths, @types and scoped packages included", () => {
    assert.equal(packageOfFile("/p/node_modules/async-mutex/lib/Mutex.d.ts"), "async-mutex");
    assert.equal(packageOfFile("/p/node_modules/@types/pg/index.d.ts"), "pg");
    assert.equal(packageOfFile("/p/node_modules/@scope/pkg/index.d.ts"), "@scope/pkg");
    assert.equal(packageOfFile("/repo/src/sync/mutex.ts"), "asyncdoctor");
    assert.equal(packageOfFile("/repo/src/app/mutex.ts"), undefined);
  });
});

describe("lock-apis: capacityOf", () => {
  const init = (text: string): ts.Expression => {
    const sf = ts.createSourceFile("x.ts", `x = ${text};`, ts.ScriptTarget.ES2022, true);
    return ((sf.statements[0] as ts.ExpressionStatement).expression as ts.BinaryExpression).right;
  };
  it("reads permits, concurrency and pool sizes from the creating expression", () => {
    assert.equal(capacityOf("mutex", undefined), 1);
    assert.equal(capacityOf("semaphore", init("new Semaphore(3)")), 3);
    assert.equal(capacityOf("semaphore", init("new Semaphore(n)")), undefined);
    assert.equal(capacityOf("limiter", init("pLimit(2)")), 2);
    assert.equal(capacityOf("limiter", init("pLimit({ concurrency: 5 })")), 5);
    assert.equal(capacityOf("queue", init("new PQueue()")), Infinity);
    assert.equal(capacityOf("queue", init("new PQueue({ concurrency: 1 })")), 1);
    assert.equal(capacityOf("pool", init("new Pool({ max: 4 })")), 4);
    assert.equal(capacityOf("pool", init("knex({ client: 'pg', pool: { max: 1 } })")), 1);
    assert.equal(capacityOf("pool", init("createPool({ connectionLimit: 8 })")), 8);
  });
});

describe("lock-apis: handleRegion", () => {
  const region = (code: string, pkgs: string[]): { text: string; names: readonly string[] } => {
    const { checker, main } = load(code, stubs(...pkgs));
    const call = callsStarting(main, "m.acquire")[0] ?? callsStarting(main, "pool.connect")[0]!;
    const use = classifyCall(call, checker)!;
    const fn = main.statements.find(ts.isFunctionDeclaration)!;
    const r = handleRegion(use, fn.body!);
    return { text: main.text.slice(call.end, r.end).trim().split("\n").pop()!.trim(), names: r.names };
  };
  it("ends at the releaser call", () => {
    const r = region(
      `import { Mutex } from "async-mutex"; const m = new Mutex();
async function f() { const release = await m.acquire(); try { await g(); } finally { release(); } }
async function g() {}`,
      ["async-mutex"],
    );
    assert.deepEqual(r.names, ["release"]);
    assert.match(r.text, /finally \{$/);
  });
  it("ends at client.release() for a pg client", () => {
    const r = region(
      `import { Pool } from "pg"; const pool = new Pool();
async function f() { const client = await pool.connect(); await client.query("x"); client.release(); await pool.query("y"); }`,
      ["pg"],
    );
    assert.deepEqual(r.names, ["client"]);
    assert.match(r.text, /client.query\("x"\);$/);
  });
  it("ends with the block for using", () => {
    const { checker, main } = load(
      `import { Mutex } from "asyncdoctor"; const m = new Mutex();
async function f() { { using h = await m.acquire(); } await m.runExclusive(() => 1); }`,
      stubs("asyncdoctor"),
    );
    const call = callsStarting(main, "m.acquire")[0]!;
    const fn = main.statements.find(ts.isFunctionDeclaration)!;
    const r = handleRegion(classifyCall(call, checker)!, fn.body!);
    assert.ok(r.end < callsStarting(main, "m.runExclusive")[0]!.getStart());
  });
});

describe("lock-apis: asyncdoctor's own sources (src/sync, src/compat)", () => {
  const files = {
    "src/sync/rwlock.ts": `export class RWLock {
  async read<T>(fn: () => T): Promise<T> { return fn(); }
  async write<T>(fn?: () => T): Promise<T | (() => void)> { return fn ? fn() : () => {}; }
}`,
    "src/compat/p-limit.ts": `export interface LimitFunction { <T>(fn: () => Promise<T>): Promise<T>; readonly activeCount: number }
export default function pLimit(n: number): LimitFunction { const f = (async <T>(fn: () => Promise<T>) => fn()) as unknown as LimitFunction; void n; return f; }`,
  };
  const kinds = (code: string, prefix: string): string => {
    const { checker, main } = load(code, files);
    const u = classifyCall(callsStarting(main, prefix).at(-1)!, checker);
    return u ? `${u.kind} ${u.mode}${u.shared ? " shared" : ""}` : "none";
  };
  it("decides scoped or handle by whether a function is passed", () => {
    assert.equal(kinds(`import { RWLock } from "./src/sync/rwlock.js"; const rw = new RWLock(); void rw.read(() => 1);`, "rw.read"), "rwlock scoped shared");
    assert.equal(kinds(`import { RWLock } from "./src/sync/rwlock.js"; const rw = new RWLock(); void rw.write();`, "rw.write"), "rwlock handle");
  });
  it("recognises the p-limit compatible limiter", () => {
    assert.equal(kinds(`import pLimit from "./src/compat/p-limit.js"; const limit = pLimit(1); void limit(async () => 1);`, "limit("), "limiter scoped");
  });
});
