import { unclosedResource } from "../../../src/check/rules/unclosed-resource.js";
import { ruleTester } from "../rule-tester.js";

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
  ],
  invalid: [
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
