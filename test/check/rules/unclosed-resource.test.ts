import { unclosedResource } from "../../../src/check/rules/unclosed-resource.js";
import { ruleTester } from "../rule-tester.js";
import { stubs } from "../stubs.js";

const fsx = `interface FileHandle { read(): Promise<string>; close(): Promise<void>; [Symbol.asyncDispose](): Promise<void>; }
declare function open(p: string): Promise<FileHandle>;
interface Client { query(q: string): Promise<number>; release(): void; }
declare const pool: { connect(): Promise<Client> };
declare class Client2 { connect(): Promise<Client2>; close(): Promise<void>; }
declare function getShared(): FileHandle;
declare class Scope { run(): void; [Symbol.asyncDispose](): Promise<void>; }
declare class Hasher { update(s: string): this; digest(): string; end(): void; }
`;
const L = 9; // the first line after the stubs
const runner = `interface Runner { query(q: string): Promise<number>; release(): Promise<void>; }
declare const ds: { createRunner(): Runner };
`;
const gp = stubs("generic-pool");
const gpHead = `import { Pool } from "generic-pool";\ndeclare const pool: Pool<{ id: number }>;\n`;

ruleTester(unclosedResource, {
  valid: [
    { name: "await using", code: fsx + `async function f() { await using fh = await open("a"); return fh.read(); }` },
    {
      name: "closed in finally",
      code: fsx + `async function f() { const fh = await open("a"); try { return await fh.read(); } finally { await fh.close(); } }`,
    },
    { name: "closed right away, nothing in between can leave", code: fsx + `async function f() { const c = await pool.connect(); c.release(); }` },
    { name: "returned to the caller", code: fsx + `async function f() { const fh = await open("a"); return fh; }` },
    { name: "stored in a field", code: fsx + `class C { fh?: FileHandle; async init() { const fh = await open("a"); this.fh = fh; } }` },
    {
      name: "passed on to someone who owns it",
      code: fsx + `declare function track(x: unknown): void;\nasync function f() { const fh = await open("a"); track(fh); }`,
    },
    {
      name: "closed by a callback later",
      code: fsx + `declare function onExit(cb: () => void): void;\nasync function f() { const fh = await open("a"); onExit(() => { void fh.close(); }); }`,
    },
    { name: "a writer with only end() is not a resource", code: fsx + `function f() { const h = new Hasher(); h.update("x"); return h.digest(); }` },
    { name: "a parameter is not opened here", code: fsx + `async function f(fh: FileHandle) { await fh.read(); }` },
    { name: "a type that is only disposable is not a resource by default", code: fsx + `function f() { const s = new Scope(); s.run(); }` },
    { name: "a lookup of something that already exists is not an open", code: fsx + `async function f() { const fh = getShared(); await fh.read(); }` },
    { name: "returned through its own fluent method", code: fsx + `async function f() { const c = new Client2(); return await c.connect(); }` },
    {
      name: "a tracked resource closed by await using",
      code:
        fsx + `declare function track<T>(x: T, o?: object): T;\nasync function f() { await using c = track(new Client2(), { name: "c" }); await c.connect(); }`,
    },
    {
      name: "track() of something that already exists is not an open",
      code: fsx + `declare function track<T>(x: T, o?: object): T;\nasync function f() { const fh = track(getShared()); await fh.read(); }`,
    },
    {
      name: "closed in a finally whose try starts right after the open",
      code: fsx + `async function f() { const fh = await open("a"); let n = 0; try { n = (await fh.read()).length; } finally { await fh.close(); } return n; }`,
    },
    {
      name: "a stream closed in finally, an await inside the try",
      code:
        fsx +
        `declare function createReadStream(p: string): { read(): string; destroy(): void; close(): void };\nasync function f() { const s = createReadStream("a"); try { await Promise.resolve(s.read()); } finally { s.destroy(); } }`,
    },
    { name: "module-level handle lives as long as the module", code: fsx + `const ready = open("a");\nexport { ready };` },
    {
      name: "a Sequelize model instance is a row, not a resource (its destroy() deletes it)",
      code: `import { Model } from "sequelize";\nclass Counter extends Model {}\nasync function f() { const c = await Counter.create({ value: 0 }); await c.reload(); }`,
      files: stubs("sequelize"),
    },
    {
      name: "an async-mutex Mutex is a lock, not a resource (its release() ends a hold)",
      code: `import { Mutex } from "async-mutex";\nasync function f() { const m = new Mutex(); const release = await m.acquire(); await Promise.resolve(); release(); }`,
      files: stubs("async-mutex"),
    },
    {
      name: "a pool checkout given back to the pool in finally",
      code: gpHead + `async function f() { const c = await pool.acquire(); try { await Promise.resolve(c.id); } finally { await pool.release(c); } }`,
      files: gp,
    },
    {
      name: "a pool checkout handed to a helper is the helper's to give back",
      code: gpHead + `declare function work(c: { id: number }): Promise<void>;\nasync function f() { const c = await pool.acquire(); await work(c); }`,
      files: gp,
    },
    {
      name: "the resource's own connect() awaited before the try: nothing is open when it fails",
      code: fsx + `async function f() { const c = new Client2(); await c.connect(); try { await Promise.resolve(); } finally { await c.close(); } }`,
    },
    {
      name: "a chained call whose result is the resource itself (fluent open)",
      code: fsx + `async function f() { const c = await new Client2().connect(); await c.close(); }`,
    },
    {
      name: "a chained call that returns no promise (a server started for the process's life)",
      code: `declare function createServer(): { listen(p: number): void; close(): void };\ncreateServer().listen(80);`,
    },
    {
      name: "a private field closed by the class's close()",
      code:
        runner +
        `class Job {\n  private r: Runner;\n  constructor() { this.r = ds.createRunner(); }\n  run() { return this.r.query("x"); }\n  close() { return this.r.release(); }\n}`,
    },
    {
      name: "a private field handed out by a getter is its reader's to close",
      code: runner + `class Job {\n  private r: Runner;\n  constructor() { this.r = ds.createRunner(); }\n  get runner() { return this.r; }\n}`,
    },
    {
      name: "a hand-written semaphore (acquire and release) is a lock, not a resource",
      code: `declare class Sem { acquire(): Promise<void>; release(): void }\nasync function f() { const s = new Sem(); await s.acquire(); await Promise.resolve(); s.release(); }\nclass C { #s: Sem; constructor() { this.#s = new Sem(); } }`,
    },
    {
      name: "a public field can be closed by its owner's owner",
      code: runner + `class Job {\n  r: Runner;\n  constructor() { this.r = ds.createRunner(); }\n  run() { return this.r.query("x"); }\n}`,
    },
  ],
  invalid: [
    {
      name: "a pool checkout not given back when the job throws (generic-pool#85)",
      code: gpHead + `async function f(n: number) {\n  const c = await pool.acquire();\n  if (n > 1) throw new Error("failed");\n  await pool.release(c);\n}`,
      files: gp,
      findings: [{ line: 4, summary: /early exit at line 5 skips the `pool\.release` call/ }],
    },
    {
      name: "an await other than its own open before the try",
      code:
        fsx +
        `declare function load(): Promise<string>;\nasync function f() {\n  const c = new Client2();\n  await load();\n  try { await c.connect(); } finally { await c.close(); }\n}`,
      findings: [{ line: L + 2, summary: /await that can throw at line 12/ }],
    },
    {
      name: "opened for one call and dropped (typeorm#8790)",
      code: runner + `async function f() {\n  return await ds.createRunner().query("select 1");\n}`,
      findings: [{ line: 4, summary: /`ds\.createRunner\(…\)` is opened for one call \(`\.query\(…\)`\) and dropped/ }],
    },
    {
      name: "a private field no code of the class closes (typeorm#1201)",
      code:
        runner +
        `class Job {\n  private readonly r: Runner;\n  constructor(given?: Runner) {\n    this.r = given ?? ds.createRunner();\n  }\n  run() { return this.r.query("x"); }\n}`,
      findings: [{ line: 6, summary: /`this\.r` holds `ds\.createRunner\(…\)`, and no code of `Job` ever closes it/ }],
    },
    {
      name: "a #private field opened in a method and never closed",
      code: runner + `class Job {\n  #r?: Runner;\n  async start() {\n    this.#r = ds.createRunner();\n    await this.#r.query("x");\n  }\n}`,
      findings: [{ line: 6 }],
    },
    {
      name: "never closed (seed pitfall 3)",
      code: fsx + `async function f() {\n  const fh = await open("a");\n  return fh.read();\n}`,
      findings: [{ line: L + 1, summary: /`fh`.*never closed/, fix: /await using fh/ }],
    },
    {
      name: "an await that can throw skips the close",
      code: fsx + `async function f() {\n  const c = await pool.connect();\n  await c.query("select 1");\n  c.release();\n}`,
      findings: [{ line: L + 1, summary: /await that can throw at line 11/ }],
    },
    {
      name: "an await before the try whose finally closes it",
      code:
        fsx +
        `async function f() {\n  const fh = await open("a");\n  const c = await pool.connect();\n  try { await fh.read(); } finally { await fh.close(); c.release(); }\n}`,
      findings: [{ line: L + 1, summary: /await that can throw at line 11 skips/ }],
    },
    {
      name: "a stream opened before an await that can throw",
      code:
        fsx +
        `declare function createWriteStream(p: string): { write(s: string): void; destroy(): void; close(): void };\ndeclare function load(): Promise<string>;\nasync function f() {\n  const out = createWriteStream("a");\n  out.write(await load());\n  out.close();\n}`,
      findings: [{ line: L + 3, summary: /await that can throw at line 13/ }],
    },
    {
      name: "closed on one branch only",
      code: fsx + `async function f(ok: boolean) {\n  const fh = await open("a");\n  if (ok) await fh.close();\n}`,
      findings: [{ line: L + 1, summary: /not closed on every path/ }],
    },
    {
      name: "early return before the close",
      code: fsx + `async function f(ok: boolean) {\n  const fh = await open("a");\n  if (!ok) return;\n  fh.close();\n}`,
      findings: [{ line: L + 1, summary: /early exit/ }],
    },
    {
      name: "a constructed client never closed",
      code: fsx + `async function f() {\n  const c = new Client2();\n  await c.connect();\n}`,
      findings: [{ line: L + 1, summary: /never closed/ }],
    },
    {
      name: "a resource opened inside track() and never closed (seed pitfall 3)",
      code:
        fsx +
        `declare function track<T>(x: T, o?: object): T;\nasync function f() {\n  const c = track(new Client2(), { name: "session" });\n  await c.connect();\n}`,
      findings: [{ line: L + 2, summary: /never closed/ }],
    },
    {
      name: "a disposable-only type when asked to",
      code: fsx + `function f() {\n  const s = new Scope();\n  s.run();\n}`,
      options: { disposableOnly: true },
      findings: [{ line: L + 1, summary: /never closed/ }],
    },
  ],
});
