import { unobservedRejection } from "../../../src/check/rules/unobserved-rejection.js";
import { ruleTester } from "../rule-tester.js";
import { stubs } from "../stubs.js";

const lib = `declare function load(x: string): Promise<string>;
async function quiet(): Promise<void> { try { await load("q"); } catch (err) { console.error(err); } }
`;
const L = 3; // the first line after the stubs
const am = stubs("async-mutex");
const mutexLib = `import { Mutex } from "async-mutex";\ndeclare function load(x: string): Promise<string>;\nconst m = new Mutex();\n`;

ruleTester(unobservedRejection, {
  valid: [
    { name: "void on a promise that handles its rejection", code: lib + `function f() { void load("a").catch((e) => console.error(e)); }` },
    { name: "void on then(ok, fail), then finally", code: lib + `function f() { void load("a").then(() => {}, () => {}).finally(() => {}); }` },
    { name: "void on an async function that cannot reject", code: lib + `function f() { void quiet(); }` },
    {
      name: "void on an async IIFE that cannot reject",
      code: lib + `function f() { void (async () => { try { await load("a"); } catch { /* shown in the UI */ } })(); }`,
    },
    { name: "void on a plain value marks it unused", code: lib + `function f(x: number, p: Promise<void>) { void x; void p; }` },
    { name: "void on a non-promise call", code: lib + `declare function sync(): number;\nfunction f() { void sync(); }` },
    { name: "void checks off by option", code: lib + `function f() { void load("a"); }`, options: { checkVoid: false } },
    { name: "started and awaited together", code: lib + `async function f() { const [a, b] = await Promise.all([load("a"), load("b")]); return a + b; }` },
    {
      name: "started, handled, then other awaits",
      code: lib + `async function f() { const a = load("a"); a.catch(() => {}); const b = await load("b"); return (await a) + b; }`,
    },
    { name: "nothing awaited in between", code: lib + `async function f() { const a = load("a"); const b = load("b"); return Promise.all([a, b]); }` },
    {
      name: "the await in between cannot throw out (caught)",
      code: lib + `async function f() { const a = load("a"); let b = ""; try { b = await load("b"); } catch { b = "-"; } return (await a) + b; }`,
    },
    { name: "a promise that cannot reject started first", code: lib + `async function f() { const q = quiet(); await load("b"); await q; }` },
    { name: "not in an async function", code: lib + `function f() { const a = load("a"); return a; }` },
    {
      name: "void on a mutex's scoped call whose callback cannot throw (a follow-up job)",
      code:
        mutexLib +
        `const log: string[] = [];\nfunction enqueue(name: string, then?: string): Promise<void> {\n  return m.runExclusive(async () => {\n    log.push(name);\n    await new Promise((r) => setTimeout(r, 5));\n    if (then) void enqueue(then);\n  });\n}`,
      files: am,
    },
    {
      name: "void on runExclusive from a listener, the callback only logs",
      code:
        mutexLib +
        `declare const ev: { on(e: string, f: (n: number) => void): void };\nev.on("x", (n) => {\n  void m.runExclusive(async () => { console.log("audit", n); });\n});`,
      files: am,
    },
    {
      name: "void on an async function awaiting a scoped call that cannot throw (a retry in a timer)",
      code:
        mutexLib +
        `let attempts = 0;\nasync function sync(): Promise<void> {\n  await m.runExclusive(async () => {\n    attempts++;\n    if (attempts < 3) setTimeout(() => { void sync(); }, 10);\n  });\n}\nfunction kick() { void sync(); }`,
      files: am,
    },
    {
      name: "void on an async function whose body only logs and resolves timers",
      code:
        lib +
        `async function tick(): Promise<void> { console.log(Date.now()); await new Promise<void>((resolve) => { setTimeout(() => resolve(), 1); }); }\nfunction f() { void tick(); }`,
    },
  ],
  invalid: [
    {
      name: "void on a mutex's scoped call whose callback can reject",
      code: mutexLib + `function f() {\n  void m.runExclusive(async () => { await load("a"); });\n}`,
      files: am,
      findings: [{ line: 5 }],
    },
    {
      name: "void on a scoped call of a mutex that is cancelled elsewhere",
      code: mutexLib + `function f() {\n  void m.runExclusive(async () => { console.log("x"); });\n}\nfunction stop() { m.cancel(); }`,
      files: am,
      findings: [{ line: 5 }],
    },
    {
      name: "void on a plain function returning a scoped call whose callback throws",
      code: mutexLib + `function job(): Promise<void> { return m.runExclusive(async () => { JSON.parse("{"); }); }\nfunction f() {\n  void job();\n}`,
      files: am,
      findings: [{ line: 6 }],
    },
    {
      name: "void on an async function whose timer promise can reject",
      code:
        lib +
        `async function tick(): Promise<void> { await new Promise<void>((resolve, reject) => { setTimeout(reject, 1); }); }\nfunction f() {\n  void tick();\n}`,
      findings: [{ line: L + 2 }],
    },
    {
      name: "void on a promise that can reject",
      code: lib + `function f() {\n  void load("a");\n}`,
      findings: [{ line: L + 1, summary: /`void load\("a"\)` drops a promise that can reject/, fix: /\.catch/ }],
    },
    {
      name: "void on an async IIFE that can reject",
      code: lib + `function f() {\n  void (async () => { await load("a"); })();\n}`,
      findings: [{ line: L + 1 }],
    },
    {
      name: "started before an await that can throw",
      code: lib + `async function f() {\n  const a = load("a");\n  const b = await load("b");\n  return (await a) + b;\n}`,
      findings: [{ line: L + 1, summary: /`a` starts a promise before the await at line 5/, fix: /Promise\.all/ }],
    },
    {
      name: "two started together, awaited one by one: a failure of the first leaves the second unobserved",
      code: lib + `async function f() {\n  const a = load("a");\n  const b = load("b");\n  return [await a, await b];\n}`,
      findings: [{ line: L + 2, summary: /`b` starts a promise before the await at line 6/ }],
    },
    {
      name: "the await in between is in a try whose catch rethrows",
      code:
        lib +
        `async function f() {\n  const a = load("a");\n  try { await load("b"); } catch (e) { throw new Error("b failed", { cause: e }); }\n  return a;\n}`,
      findings: [{ line: L + 1 }],
    },
  ],
});
