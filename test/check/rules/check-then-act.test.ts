import { checkThenAct } from "../../../src/check/rules/check-then-act.js";
import { ruleTester } from "../rule-tester.js";
import { stubs } from "../stubs.js";

const decls = `interface Client { query(s: string): Promise<unknown> }
declare function connect(): Promise<Client>;
declare function start(): Promise<void>;
`;

ruleTester(checkThenAct, {
  valid: [
    {
      name: "the connect promise is cached; the method it runs sets the flag",
      code: `${decls}export class Client2 {
  private isConnected = false;
  private connecting?: Promise<void>;
  private async connect() { await start(); this.isConnected = true; }
  async call() {
    if (!this.isConnected) { this.connecting ??= this.connect(); await this.connecting; }
  }
}`,
    },
    {
      name: "the awaited method tests the flag again after its own await (double-checked)",
      code: `${decls}export class Client2 {
  private isConnected = false;
  private async connect() { await start(); if (this.isConnected) return; this.isConnected = true; }
  async call() { if (!this.isConnected) { await this.connect(); } }
}`,
    },
    {
      name: "the awaited method claims the state before its first await",
      code: `${decls}let state = "idle";
async function init() { state = "starting"; await start(); state = "ready"; }
export async function use() { if (state === "idle") await init(); }`,
    },
    {
      name: "the fix: the promise is cached, so every caller waits for one connect",
      code: `${decls}export class Db {
  private clientPromise?: Promise<Client>;
  async client() {
    if (!this.clientPromise) { this.clientPromise = connect(); }
    return await this.clientPromise;
  }
}`,
    },
    {
      name: "the state is claimed before the first await",
      code: `${decls}let state: "idle" | "starting" | "connected" = "idle";
export async function ensure() {
  if (state === "idle") {
    state = "starting";
    await start();
    state = "connected";
  }
}`,
    },
    {
      name: "tested again after the await (double-checked)",
      code: `${decls}export class Db {
  private client?: Client;
  async get() {
    if (!this.client) {
      const c = await connect();
      if (!this.client) this.client = c;
    }
    return this.client;
  }
}`,
    },
    {
      name: "held under a lock across the test and the write",
      files: stubs("async-mutex"),
      code: `import { Mutex } from "async-mutex";
${decls}const lock = new Mutex();
let client: Client | undefined;
export async function get() {
  return lock.runExclusive(async () => {
    if (!client) { client = await connect(); }
    return client;
  });
}`,
    },
    {
      name: "a local of the call is tested and set",
      code: `${decls}export async function get(cached?: Client) {
  let client = cached;
  if (!client) { client = await connect(); }
  return client;
}`,
    },
    {
      name: "the branch waits but does not set what it tested",
      code: `${decls}let ready = false;
export async function ping() {
  if (!ready) { await start(); console.log("not ready yet"); }
}`,
    },
    {
      name: "set without waiting in between",
      code: `${decls}let count = 0;
export async function tick() {
  if (count < 10) { count = count + 1; }
  await start();
}`,
    },
    {
      name: "a synchronous function cannot be interleaved",
      code: `let client: object | undefined;
declare function make(): object;
export function get() {
  if (!client) { client = make(); }
  return client;
}`,
    },
    {
      name: "a reset after the work it guarded undoes, it claims nothing",
      code: `${decls}let pending: (() => void) | null = null;
export async function flush() {
  if (pending) {
    await start();
    pending = null;
  }
}`,
    },
    {
      name: "the await is on a path that returns before the write",
      code: `${decls}export class Source {
  private consumed = false;
  async read(load?: () => Promise<string>) {
    if (this.consumed) throw new Error("used");
    if (load) return (await load()).length;
    if (typeof load === "string") {
      const n = await start();
      return n;
    }
    this.consumed = true;
    return 0;
  }
}`,
    },
    {
      name: "a guard that throws asserts an invariant; the state it tests is not the work's claim",
      code: `${decls}export class Conn {
  private socket?: Client;
  private reconnecting = false;
  async reconnect() {
    if (!this.socket) throw new Error("not initialised");
    if (this.reconnecting) return;
    this.reconnecting = true;
    await start();
    this.socket = await connect();
    this.reconnecting = false;
  }
}`,
    },
  ],
  invalid: [
    {
      name: "the flag is set by the awaited method after its own await (stitch-sdk#106)",
      code: `${decls}export class StitchClient {
  private isConnected = false;
  private async connect() {
    await start();
    this.isConnected = true;
  }
  async callTool() {
    if (!this.isConnected) {
      await this.connect();
    }
  }
}`,
      findings: [
        {
          line: 8,
          summary: /`this\.isConnected` is tested at main\.ts:11 and set here after an `await` \(main\.ts:7\), in this\.connect\(\) awaited after the test/,
        },
      ],
    },
    {
      name: "a write reached from its own function's test and from a caller's is one finding, named by the direct test (Baileys chats.ts)",
      code: `${decls}export class Sync {
  private state = "idle";
  private async sync() {
    if (this.state === "syncing") return;
    await start();
    this.state = "online";
  }
  async onEvent() {
    if (this.state !== "online") {
      await this.sync();
    }
  }
}`,
      findings: [{ line: 9, summary: /`this\.state` is tested at main\.ts:7 and set here after an `await` \(main\.ts:8\): every call/ }],
    },
    {
      name: "a module flag set by an awaited function after its await",
      code: `${decls}let ready = false;
async function init() {
  await start();
  ready = true;
}
export async function use() { if (!ready) await init(); }`,
      findings: [{ line: 7 }],
    },
    {
      name: "a connection made after the test, cached by each caller",
      code: `${decls}export class Db {
  private client?: Client;
  async get() {
    if (!this.client) {
      this.client = await connect();
    }
    return this.client;
  }
}`,
      findings: [{ line: 8, summary: /`this.client` is tested at main.ts:7 and set here after an `await`/, fix: /this.clientPromise \?\?= connect\(\)/ }],
    },
    {
      name: "a state flag set after the work it guards",
      code: `${decls}let state = "idle";
export async function ensure() {
  if (state !== "connected") {
    await start();
    state = "connected";
  }
}`,
      findings: [{ line: 8, summary: /`state` is tested/, fix: /in-progress state/ }],
    },
    {
      name: "the early-return form: the rest of the block runs when the test failed",
      code: `${decls}let client: Client | undefined;
export async function get() {
  if (client) return client;
  const c = await connect();
  client = c;
  return c;
}`,
      findings: [{ line: 8 }],
    },
    {
      name: "a module-level singleton initialised by each caller",
      code: `${decls}let instance: Client | null = null;
export const getInstance = async () => {
  if (instance === null) {
    instance = await connect();
  }
  return instance;
};`,
      findings: [{ line: 7 }],
    },
  ],
});
