import { missedOnceEvent } from "../../../src/check/rules/missed-once-event.js";
import { ruleTester } from "../rule-tester.js";

const events = {
  "typings/@types/node/events.d.ts": `declare module "node:events" {
  export class EventEmitter { once(ev: string, fn: (...a: unknown[]) => void): this; on(ev: string, fn: (...a: unknown[]) => void): this; }
  export function once(e: EventEmitter, ev: string): Promise<unknown[]>;
}`,
};
const head = `import { EventEmitter, once } from "node:events";
declare class Client extends EventEmitter { connect(): void; ready: boolean; }
declare function setup(): Promise<void>;
`;
const L = 4; // the first line after the stubs

ruleTester(missedOnceEvent, {
  valid: [
    { name: "listener added right after connect()", code: head + `async function f(c: Client) { c.connect(); await once(c, "ready"); }`, files: events },
    {
      name: "a new emitter, nothing awaited before",
      code: head + `async function f() { const c = new Client(); c.connect(); await once(c, "ready"); return c; }`,
      files: events,
    },
    { name: "state checked first", code: head + `async function f(c: Client) { if (!c.ready) await once(c, "ready"); }`, files: events },
    {
      name: "the promise cached where the emitter is made",
      code: head + `class Db { c = new Client(); ready = once(this.c, "ready"); async query() { await this.ready; } }`,
      files: events,
    },
    { name: "a repeating event", code: head + `async function f(c: Client) { await setup(); await once(c, "message"); }`, files: events },
    {
      name: "a promise listener added right after the trigger",
      code: head + `async function f(c: Client) { c.connect(); await new Promise((r) => c.once("connect", r)); }`,
      files: events,
    },
    {
      name: "a once() that is not node:events'",
      code: `declare function once(e: object, ev: string): Promise<void>;\nasync function f(c: object) { await once(c, "ready"); }`,
    },
    {
      name: "the listener added before the await that could let it fire",
      code: head + `async function f(c: Client) { c.connect(); const ready = once(c, "ready"); await setup(); await ready; }`,
      files: events,
    },
  ],
  invalid: [
    {
      name: "an emitter made elsewhere (issue 11: once('ready') with no state kept)",
      code: head + `async function f(c: Client) {\n  await once(c, "ready");\n}`,
      files: events,
      findings: [{ line: L + 1, summary: /waits for "ready", which fires once: `c` was made elsewhere/, fix: /keep the state/ }],
    },
    {
      name: "an await between the trigger and the listener",
      code: head + `async function f(c: Client) {\n  c.connect();\n  await setup();\n  await once(c, "ready");\n}`,
      files: events,
      findings: [{ line: L + 3, summary: /an await between line 5/ }],
    },
    {
      name: "a field's emitter, through a promise",
      code:
        head +
        `class Db {\n  constructor(private c: Client) {}\n  async start() {\n    await new Promise<void>((resolve) => this.c.once("connect", () => resolve()));\n  }\n}`,
      files: events,
      findings: [{ line: L + 3, summary: /"connect"/ }],
    },
  ],
});
