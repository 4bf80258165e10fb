import { asyncCallbackMisuse } from "../../../src/check/rules/async-callback-misuse.js";
import { ruleTester } from "../rule-tester.js";

const save = `async function save(x: string): Promise<void> { await null; void x; }\n`;
const events = {
  "node_modules/events/package.json": `{"name":"events","types":"index.d.ts"}`,
  "node_modules/events/index.d.ts": `export declare class EventEmitter { on(event: string, listener: (...args: unknown[]) => void): this; }`,
};
const timers = `declare function later(cb: () => void, ms: number): void;\n`;

ruleTester(asyncCallbackMisuse, {
  valid: [
    { name: "map keeps the promises", code: save + `async function f(xs: string[]) { await Promise.all(xs.map(async (x) => save(x))); }` },
    { name: "sync forEach", code: `function f(xs: string[]) { const out: string[] = []; xs.forEach((x) => out.push(x)); }` },
    { name: "for…of with await", code: save + `async function f(xs: string[]) { for (const x of xs) await save(x); }` },
    { name: "callee accepts a promise", code: save + `declare function run(cb: () => void | Promise<void>): void;\nfunction f() { run(async () => save("a")); }` },
    { name: "callee typed to return a promise", code: save + `declare function run(cb: () => Promise<void>): void;\nfunction f() { run(async () => save("a")); }` },
    { name: "listener whose body cannot reject", code: save + `import { EventEmitter } from "events";\nfunction f(e: EventEmitter) { e.on("x", async () => { try { await save("a"); } catch (err) { console.error(err); } }); }`, files: events },
    { name: "timer callback handling its rejection", code: save + timers + `function f() { later(() => save("a").catch(console.error), 10); }` },
    { name: "sync predicate", code: `function f(xs: number[]) { return xs.filter((x) => x > 1); }` },
    { name: "an imported sync function by reference", code: `import { keep } from "./keep.js";\nfunction f(xs: string[]) { xs.forEach(keep); }`, files: { "keep.ts": `export function keep(x: string): void { void x; }` } },
    { name: "generic callback returning T", code: save + `declare function wrap<T>(cb: () => T): T;\nasync function f() { await wrap(async () => save("a")); }` },
  ],
  invalid: [
    { name: "async forEach", code: save + `function f(xs: string[]) {\n  xs.forEach(async (x) => { await save(x); });\n}`, findings: [{ line: 3, summary: /forEach.*ignores/, fix: /for \(const x of xs\)/ }] },
    { name: "async function by reference to forEach", code: save + `function f(xs: string[]) {\n  xs.forEach(save);\n}`, findings: [{ line: 3 }] },
    {
      name: "an imported async function by reference",
      code: `import { store } from "./store.js";\nfunction f(xs: string[]) {\n  xs.forEach(store);\n}`,
      files: { "store.ts": `export async function store(x: string): Promise<void> { await null; void x; }` },
      findings: [{ line: 3 }],
    },
    { name: "async listener", code: save + `import { EventEmitter } from "events";\nfunction f(e: EventEmitter) {\n  e.on("x", async () => { await save("a"); });\n}`, files: events, findings: [{ line: 4, fix: /try\/catch/ }] },
    { name: "async timer callback", code: save + timers + `function f() {\n  later(async () => { await save("a"); }, 10);\n}`, findings: [{ line: 4 }] },
    { name: "async Promise executor", code: save + `function f() {\n  return new Promise<void>(async (resolve) => { await save("a"); resolve(); });\n}`, findings: [{ line: 3, summary: /executor/ }] },
    { name: "async filter predicate", code: save + `function f(xs: string[]) {\n  return xs.filter(async (x) => { await save(x); return x.length > 1; });\n}`, findings: [{ line: 3, summary: /always truthy/ }] },
    { name: "forEach body in try/catch still runs unordered", code: save + `function f(xs: string[]) {\n  xs.forEach(async (x) => { try { await save(x); } catch { /* logged */ } });\n}`, findings: [{ line: 3 }] },
  ],
});
