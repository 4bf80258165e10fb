import { intervalInConstructor } from "../../../src/check/rules/interval-in-constructor.js";
import { ruleTester } from "../rule-tester.js";

// Node's timers, as @types/node declares them: the handle has unref()
const timers = {
  "node_modules/@types/node/timers.d.ts": `declare global {
  namespace NodeJS { interface Timeout { ref(): this; unref(): this; hasRef(): boolean; } }
  function setInterval(cb: () => void, ms?: number): NodeJS.Timeout;
  function clearInterval(t: NodeJS.Timeout | undefined): void;
}
export {};`,
};

// the stub is reached as @types/node is: from node_modules, by reference
const ref = `/// <reference path="./node_modules/@types/node/timers.d.ts" />\n`;

ruleTester(intervalInConstructor, {
  valid: [
    {
      name: "unref'd where it is started",
      code: ref + `class Cache {\n  t = setInterval(() => {}, 1000);\n  constructor() { setInterval(() => this.sweep(), 1000).unref(); }\n  sweep() {}\n}`,
      files: timers,
    },
    {
      name: "unref'd through its field",
      code:
        ref +
        `class Cache {\n  t: NodeJS.Timeout;\n  constructor() { this.t = setInterval(() => {}, 1000); this.t.unref(); }\n  close() { clearInterval(this.t); }\n}`,
      files: timers,
    },
    {
      name: "started in start(), not at construction",
      code: ref + `class Poller {\n  t?: NodeJS.Timeout;\n  start() { this.t = setInterval(() => {}, 1000); }\n  stop() { clearInterval(this.t); }\n}`,
      files: timers,
    },
    {
      name: "a disposable class (await using clears it)",
      code:
        ref +
        `class Poller {\n  t: NodeJS.Timeout;\n  constructor() { this.t = setInterval(() => {}, 1000); }\n  async [Symbol.asyncDispose]() { clearInterval(this.t); }\n}`,
      files: timers,
    },
    {
      name: "started in a callback, not by construction",
      code:
        ref +
        `declare function onReady(cb: () => void): void;\nclass Poller {\n  t?: NodeJS.Timeout;\n  constructor() { onReady(() => { this.t = setInterval(() => {}, 1000); }); }\n}`,
      files: timers,
    },
    {
      name: "a browser interval (a number, no process to hold)",
      code: ref + `class Clock {\n  t: number;\n  constructor() { this.t = window.setInterval(() => {}, 1000); }\n}`,
    },
    {
      name: "a user function named setInterval",
      code:
        ref +
        `function setInterval(cb: () => void, ms: number) { return { cb, ms }; }\nclass C {\n  t: { cb: () => void; ms: number };\n  constructor() { this.t = setInterval(() => {}, 1); }\n}`,
    },
    { name: "setInterval outside a constructor", code: ref + `function tick() { return setInterval(() => {}, 1000); }`, files: timers },
  ],
  invalid: [
    {
      name: "cleared only by close()",
      code:
        ref +
        `class Pool {\n  t: NodeJS.Timeout;\n  constructor() {\n    this.t = setInterval(() => this.reap(), 1000);\n  }\n  reap() {}\n  close() { clearInterval(this.t); }\n}`,
      files: timers,
      findings: [{ line: 5, summary: /`Pool` starts a ref'd interval in its constructor \(`this\.t`\) that only `close\(\)` clears/, fix: /unref\(\)/ }],
    },
    {
      name: "never cleared",
      code: ref + `class Pool {\n  t: NodeJS.Timeout;\n  constructor() {\n    this.t = setInterval(() => {}, 1000);\n  }\n}`,
      files: timers,
      findings: [{ line: 5, summary: /that nothing clears/ }],
    },
    {
      name: "no handle kept",
      code: ref + `class Pool {\n  constructor() {\n    setInterval(() => {}, 1000);\n  }\n}`,
      files: timers,
      findings: [{ line: 4, summary: /keeps no handle/ }],
    },
  ],
});
