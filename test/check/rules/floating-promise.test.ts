import { floatingPromise } from "../../../src/check/rules/floating-promise.js";
import { ruleTester } from "../rule-tester.js";

const save = `async function save(x: string): Promise<void> { await null; void x; }\n`;

const overloads = `declare function maybe(x: string): Promise<void>;\ndeclare function maybe(x: number): void;\n`;
const nodeTest = `declare module "node:test" {
  interface TestContext { test(name: string, fn: () => void): Promise<void>; }
  function it(name: string, fn: (t: TestContext) => void): Promise<void>;
  namespace it { function skip(name: string, fn: () => void): Promise<void>; }
  function describe(name: string, fn: () => void): Promise<void>;
}`;

ruleTester(floatingPromise, {
  valid: [
    { name: "awaited", code: save + `async function f() { await save("a"); }` },
    { name: "returned", code: save + `function f() { return save("a"); }` },
    { name: "voided on purpose", code: save + `function f() { void save("a"); }` },
    { name: "handled with catch", code: save + `function f() { save("a").catch(() => {}); }` },
    { name: "handled with then(ok, fail)", code: save + `function f() { save("a").then(() => {}, () => {}); }` },
    { name: "handled catch then finally", code: save + `function f() { save("a").catch(() => {}).finally(() => {}); }` },
    { name: "stored in a field", code: save + `class C { p?: Promise<void>; run() { this.p = save("a"); } }` },
    { name: "local awaited later", code: save + `async function f() { const p = save("a"); await null; await p; }` },
    { name: "local passed on", code: save + `function f(ps: Promise<void>[]) { const p = save("a"); ps.push(p); }` },
    { name: "local returned in an object", code: save + `function f() { const p = save("a"); return { p }; }` },
    { name: "the overload that returns void", code: overloads + `function f() { maybe(1); }` },
    { name: "a generic that returns a non-promise argument", code: `declare function id<T>(x: T): T;\nfunction f() { id(1); }` },
    { name: "not a promise", code: `function g(): number { return 1; }\nfunction f() { g(); }` },
    { name: "any is not known to be a promise", code: `declare const x: any;\nfunction f() { x.go(); }` },
    { name: "splice removing promises from a kept array", code: save + `function f(ps: Promise<void>[], p: Promise<void>) { ps.splice(ps.indexOf(p), 1); }` },
    { name: "sort / reverse of a kept array return the array itself", code: save + `function f(ps: Promise<void>[]) { ps.reverse(); ps.sort(); }` },
    { name: "exported local", code: save + `export const ready = save("a");` },
    { name: "Promise.all is the other rule's", code: save + `function f() { Promise.all([save("a")]); }` },
    {
      name: "a kept Task (tracker keeps it)",
      code: `import { TaskTracker } from "asyncdoctor";\nfunction f(t: TaskTracker) { t.spawn(async () => {}); }`,
      files: {
        "node_modules/asyncdoctor/package.json": `{"name":"asyncdoctor","types":"index.d.ts"}`,
        "node_modules/asyncdoctor/index.d.ts": `export declare class Task<T> implements PromiseLike<T> { then<A = T, B = never>(a?: ((v: T) => A | PromiseLike<A>) | null, b?: ((e: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B>; }\nexport declare class TaskTracker { spawn<T>(fn: () => Promise<T>): Task<T>; }`,
      },
    },
    {
      name: "node:test describe/it (their promise never rejects)",
      code: `import { describe, it } from "node:test";\ndescribe("s", () => { it("t", () => {}); it.skip("u", () => {}); });`,
      files: { "typings/@types/node/test.d.ts": nodeTest },
    },
  ],
  invalid: [
    { name: "the promise-returning overload", code: overloads + `function f() {\n  maybe("a");\n}`, findings: [{ line: 4 }] },
    {
      name: "a generic that returns its promise argument",
      code: save + `declare function id<T>(x: T): T;\nfunction f() {\n  id(save("a"));\n}`,
      findings: [{ line: 4 }],
    },
    {
      name: "a node:test subtest not awaited",
      code: `import { it } from "node:test";\nit("t", (t) => {\n  t.test("sub", () => {});\n});`,
      files: { "typings/@types/node/test.d.ts": nodeTest },
      findings: [{ line: 3 }],
    },
    { name: "bare call", code: save + `function f() {\n  save("a");\n}`, findings: [{ line: 3, summary: /save\("a"\).*nothing awaits/, fix: /await/ }] },
    {
      name: "in a loop (seed: create_task without a reference)",
      code: save + `async function f(xs: string[]) {\n  for (const x of xs) save(x);\n}`,
      findings: [{ line: 3 }],
    },
    { name: "then without a rejection handler", code: save + `function f() {\n  save("a").then(() => {});\n}`, findings: [{ line: 3 }] },
    { name: "finally does not handle", code: save + `function f() {\n  save("a").finally(() => {});\n}`, findings: [{ line: 3 }] },
    { name: "both arms of a conditional", code: save + `function f(c: boolean) {\n  c ? save("a") : save("b");\n}`, findings: [{ line: 3 }, { line: 3 }] },
    { name: "right of &&", code: save + `function f(c: boolean) {\n  c && save("a");\n}`, findings: [{ line: 3 }] },
    { name: "async IIFE", code: `function f() {\n  (async () => { await null; })();\n}`, findings: [{ line: 2 }] },
    {
      name: "an array of promises made by slice is new",
      code: save + `function f(ps: Promise<void>[]) {\n  ps.slice(1).concat([save("a")]);\n}`,
      findings: [{ line: 3, summary: /array of promises/ }],
    },
    {
      name: "array of promises from map",
      code: save + `function f(xs: string[]) {\n  xs.map((x) => save(x));\n}`,
      findings: [{ line: 3, summary: /array of promises/ }],
    },
    {
      name: "local never read (typescript-eslint misses this)",
      code: save + `async function f() {\n  const pending = save("a");\n  return 1;\n}`,
      findings: [{ line: 3, summary: /`pending` is never awaited/ }],
    },
    { name: "new Promise dropped", code: `function f() {\n  new Promise<void>((r) => r());\n}`, findings: [{ line: 2 }] },
  ],
});
