import { asyncCallbackMisuse } from "../../../src/check/rules/async-callback-misuse.js";
import { ruleTester } from "../rule-tester.js";

// declared, not defined: its promise can reject (a body the checker can see into might not)
const save = `declare function save(x: string): Promise<void>;\n`;
const events = {
  "node_modules/events/package.json": `{"name":"events","types":"index.d.ts"}`,
  "node_modules/events/index.d.ts": `export declare class EventEmitter { on(event: string, listener: (...args: unknown[]) => void): this; off(event: string, listener: (...args: unknown[]) => void): this; removeListener(event: string, listener: (...args: unknown[]) => void): this; }`,
};
const timers = `declare function later(cb: () => void, ms: number): void;\n`;
const lodash = {
  "node_modules/lodash/package.json": `{"name":"lodash","types":"index.d.ts"}`,
  "node_modules/lodash/index.d.ts": `export declare function each<T>(xs: readonly T[], fn: (x: T, i: number) => any): T[];\nexport declare function forOwn<T extends object>(o: T, fn: (v: unknown, k: string) => any): T;\nexport declare function run(fn: () => any): Promise<void>;`,
};

ruleTester(asyncCallbackMisuse, {
  valid: [
    {
      name: "taking an async listener back with off() / removeListener(): neither calls it (Baileys event-buffer.ts)",
      code:
        save +
        `import { EventEmitter } from "events";\nfunction f(e: EventEmitter, listener: () => Promise<void>) {\n  e.off("x", listener);\n  e.removeListener("x", async () => { await save("a"); });\n}`,
      files: events,
    },
    {
      name: "an async listener whose body cannot throw (it only logs and waits on a timer)",
      code: `import { EventEmitter } from "events";\nfunction f(e: EventEmitter) {\n  e.on("x", async () => { console.log("x"); await new Promise((r) => setTimeout(r, 5)); });\n}`,
      files: events,
    },
    { name: "map keeps the promises", code: save + `async function f(xs: string[]) { await Promise.all(xs.map(async (x) => save(x))); }` },
    { name: "sync forEach", code: `function f(xs: string[]) { const out: string[] = []; xs.forEach((x) => out.push(x)); }` },
    { name: "for…of with await", code: save + `async function f(xs: string[]) { for (const x of xs) await save(x); }` },
    {
      name: "callee accepts a promise",
      code: save + `declare function run(cb: () => void | Promise<void>): void;\nfunction f() { run(async () => save("a")); }`,
    },
    {
      name: "callee typed to return a promise",
      code: save + `declare function run(cb: () => Promise<void>): void;\nfunction f() { run(async () => save("a")); }`,
    },
    {
      name: "listener whose body cannot reject",
      code:
        save +
        `import { EventEmitter } from "events";\nfunction f(e: EventEmitter) { e.on("x", async () => { try { await save("a"); } catch (err) { console.error(err); } }); }`,
      files: events,
    },
    { name: "timer callback handling its rejection", code: save + timers + `function f() { later(() => save("a").catch(console.error), 10); }` },
    {
      name: "a block-bodied timer callback returning a handled chain",
      code: save + timers + `function f() { later(() => { return save("a").catch(console.error); }, 10); }`,
    },
    { name: "sync predicate", code: `function f(xs: number[]) { return xs.filter((x) => x > 1); }` },
    {
      name: "an imported sync function by reference",
      code: `import { keep } from "./keep.js";\nfunction f(xs: string[]) { xs.forEach(keep); }`,
      files: { "keep.ts": `export function keep(x: string): void { void x; }` },
    },
    { name: "finally awaits its callback's promise", code: save + `function f(p: Promise<void>) { return p.finally(() => save("cleanup")); }` },
    { name: "then awaits its callback's promise", code: save + `function f(p: Promise<void>) { return p.then(async () => { await save("a"); }); }` },
    {
      name: "a bound sync method",
      code: `import { EventEmitter } from "events";\nclass C { n = 0; onX() { this.n++; } constructor(e: EventEmitter) { e.on("x", this.onX.bind(this)); } }`,
      files: events,
    },
    { name: "a const sync arrow by reference", code: `const keep = (x: string): void => { void x; };\nfunction f(xs: string[]) { xs.forEach(keep); }` },
    {
      name: "a let async arrow by reference (may be reassigned; not followed)",
      code: save + `let go: (x: string) => void = (x) => { void x; };\nfunction f(xs: string[]) { xs.forEach(go); }`,
    },
    {
      name: "a callee that may await an unknown result",
      code: save + `declare function run(cb: () => unknown): Promise<void>;\nasync function f() { await run(async () => save("a")); }`,
    },
    {
      name: "a helper typed any that is not an iteration helper",
      code: `import { run } from "lodash";\n` + save + `async function f() { await run(async () => save("a")); }`,
      files: lodash,
    },
    {
      name: "listener with a statement before its try/catch",
      code:
        save +
        `import { EventEmitter } from "events";\nfunction f(e: EventEmitter) { e.on("x", async () => { const t0 = Date.now(); try { await save("a"); } catch (err) { console.error(err, Date.now() - t0); } }); }`,
      files: events,
    },
    {
      name: "an async function by reference whose body cannot reject",
      code:
        save +
        `import { EventEmitter } from "events";\nasync function onX() { try { await save("a"); } catch (err) { console.error(err); } }\nfunction f(e: EventEmitter) { e.on("x", onX); }`,
      files: events,
    },
    {
      name: "DOM listener that cannot reject",
      code: save + `function f() { window.addEventListener("load", async () => { try { await save("a"); } catch { /* shown elsewhere */ } }); }`,
    },
    {
      name: "generic callback returning T",
      code: save + `declare function wrap<T>(cb: () => T): T;\nasync function f() { await wrap(async () => save("a")); }`,
    },
  ],
  invalid: [
    {
      name: "the registration of a listener that is later taken back with off() is still the finding",
      code:
        save +
        `import { EventEmitter } from "events";\nfunction f(e: EventEmitter) {\n  const listener = async () => { await save("a"); };\n  e.on("x", listener);\n  e.off("x", listener);\n}`,
      files: events,
      findings: [{ line: 5 }],
    },
    {
      name: "async forEach",
      code: save + `function f(xs: string[]) {\n  xs.forEach(async (x) => { await save(x); });\n}`,
      findings: [{ line: 3, summary: /forEach.*ignores/, fix: /for \(const x of xs\)/ }],
    },
    { name: "async function by reference to forEach", code: save + `function f(xs: string[]) {\n  xs.forEach(save);\n}`, findings: [{ line: 3 }] },
    {
      name: "an imported async function by reference",
      code: `import { store } from "./store.js";\nfunction f(xs: string[]) {\n  xs.forEach(store);\n}`,
      files: { "store.ts": `export async function store(x: string): Promise<void> { await null; void x; }` },
      findings: [{ line: 3 }],
    },
    {
      name: "async listener",
      code: save + `import { EventEmitter } from "events";\nfunction f(e: EventEmitter) {\n  e.on("x", async () => { await save("a"); });\n}`,
      files: events,
      findings: [{ line: 4, fix: /try\/catch/ }],
    },
    { name: "async timer callback", code: save + timers + `function f() {\n  later(async () => { await save("a"); }, 10);\n}`, findings: [{ line: 4 }] },
    {
      name: "async Promise executor",
      code: save + `function f() {\n  return new Promise<void>(async (resolve) => { await save("a"); resolve(); });\n}`,
      findings: [{ line: 3, summary: /executor/ }],
    },
    {
      name: "async filter predicate",
      code: save + `function f(xs: string[]) {\n  return xs.filter(async (x) => { await save(x); return x.length > 1; });\n}`,
      findings: [{ line: 3, summary: /always truthy/ }],
    },
    {
      name: "a const async arrow by reference",
      code: save + `const store = async (x: string) => { await save(x); };\nfunction f(xs: string[]) {\n  xs.forEach(store);\n}`,
      findings: [{ line: 4, summary: /`store`, an async function, passed to `forEach`/ }],
    },
    {
      name: "an async class field passed as a listener",
      code:
        save +
        `import { EventEmitter } from "events";\nclass C {\n  onX = async () => { await save("a"); };\n  constructor(e: EventEmitter) {\n    e.on("x", this.onX);\n  }\n}`,
      files: events,
      findings: [{ line: 6, summary: /this\.onX/ }],
    },
    {
      name: "an async method passed as a listener",
      code:
        save +
        `import { EventEmitter } from "events";\nclass C {\n  async onX() { await save("a"); }\n  constructor(e: EventEmitter) {\n    e.on("x", this.onX.bind(this));\n    e.on("y", this.onX);\n  }\n}`,
      files: events,
      findings: [{ line: 6, summary: /`this\.onX`, an async function,/ }, { line: 7 }],
    },
    {
      name: "lodash each (iteratee typed any)",
      code:
        `import { each, forOwn } from "lodash";\n` +
        save +
        `function f(xs: string[], o: object) {\n  each(xs, async (x) => { await save(x); });\n  forOwn(o, async (v, k) => { await save(k); });\n}`,
      files: lodash,
      findings: [{ line: 4, summary: /`each` ignores/ }, { line: 5 }],
    },
    {
      name: "DOM listener overload returning any",
      code: save + `function f() {\n  window.addEventListener("load", async () => { await save("a"); });\n}`,
      findings: [{ line: 3 }],
    },
    {
      name: "a non-async arrow returning a promise is not called async",
      code: save + timers + `function f() {\n  later(() => save("a"), 10);\n}`,
      findings: [{ line: 4, summary: /^the callback \(it returns a promise\) passed to `later`/ }],
    },
    {
      name: "a statement that can throw before the try",
      code:
        save +
        `import { EventEmitter } from "events";\ndeclare function parse(s: string): number;\nfunction f(e: EventEmitter) {\n  e.on("x", async () => { const n = parse("1"); try { await save(String(n)); } catch { /* logged */ } });\n}`,
      files: events,
      findings: [{ line: 5 }],
    },
    {
      name: "an async executor without await",
      code: `function f() {\n  return new Promise<void>(async (resolve) => { JSON.parse("x"); resolve(); });\n}`,
      findings: [{ line: 2, summary: /executor's own promise/ }],
    },
    {
      name: "forEach body in try/catch still runs unordered",
      code: save + `function f(xs: string[]) {\n  xs.forEach(async (x) => { try { await save(x); } catch { /* logged */ } });\n}`,
      findings: [{ line: 3 }],
    },
  ],
});
