import { missedOnceEvent } from "../../../src/check/rules/missed-once-event.js";
import { ruleTester } from "../rule-tester.js";
import { stubs } from "../stubs.js";

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
const pq = stubs("p-queue");
const queueHead = `import PQueue from "p-queue";\nconst queue = new PQueue({ concurrency: 2 });\n`;
const producer = (emit: string) =>
  head + `class Producer extends EventEmitter {\n  constructor() {\n    super();\n    ${emit}\n  }\n  start() { ${emit} }\n}\n`;

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
    {
      name: "a class that emits 'ready' on a later turn, the listener added right after new",
      code:
        producer(`process.nextTick(() => this.emit("ready"));`) +
        `const p = new Producer();\nconst ready = new Promise<void>((resolve) => p.once("ready", resolve));\nexport { ready };`,
      files: events,
    },
    {
      name: "p-queue: the idle wait right after adding work, nothing awaited in between",
      code: queueHead + `export async function drain() {\n  queue.add(async () => 1);\n  await new Promise((r) => queue.once("idle", r));\n}`,
      files: pq,
    },
    {
      name: "p-queue: the state checked before waiting for idle",
      code: queueHead + `export async function drain() {\n  if (queue.size > 0 || queue.pending > 0) await new Promise((r) => queue.on("idle", r));\n}`,
      files: pq,
    },
    {
      name: "p-queue: an event that is not a state ('completed')",
      code: queueHead + `export async function next() {\n  await new Promise((r) => queue.once("completed", r));\n}`,
      files: pq,
    },
  ],
  invalid: [
    {
      name: "'ready' emitted synchronously in the constructor, before the listener (kafka-node#1349)",
      code:
        producer(`this.emit("ready");`) +
        `const p = new Producer();\nconst ready = new Promise<void>((resolve) => p.once("ready", resolve));\nexport { ready };`,
      files: events,
      findings: [{ line: 12, summary: /`new Producer\(\)` at line 11 emits it before returning \(line 7\)/, fix: /nextTick/ }],
    },
    {
      name: "a method that emits 'ready' before returning, awaited right after the call",
      code: producer(`this.emit("ready");`) + `export async function go(p: Producer) {\n  p.start();\n  await once(p, "ready");\n}`,
      files: events,
      findings: [{ line: 13, summary: /`p\.start\(\)` at line 12 emits it/ }],
    },
    {
      name: "p-queue: waiting for 'idle' on a queue made elsewhere (p-queue#237)",
      code: queueHead + `export async function shutdown() {\n  await new Promise((resolve) => {\n    queue.on("idle", resolve);\n  });\n}`,
      files: pq,
      findings: [{ line: 5, summary: /emitted only when `queue` becomes idle/, fix: /onIdle/ }],
    },
    {
      name: "p-queue: waiting for 'idle' on a queue just made (a new queue is idle and emits nothing)",
      code: `import PQueue from "p-queue";\nexport async function f() {\n  const q = new PQueue();\n  await new Promise((r) => q.on("idle", r));\n}`,
      files: pq,
      findings: [{ line: 4 }],
    },
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
