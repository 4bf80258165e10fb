import { unconsumedBody } from "../../../src/check/rules/unconsumed-body.js";
import { ruleTester } from "../rule-tester.js";

const http = {
  "typings/@types/node/http.d.ts": `declare module "node:http" {
  export interface IncomingMessage { statusCode?: number; headers: Record<string, string>; resume(): this; on(ev: string, fn: (...a: unknown[]) => void): this; pipe<T>(d: T): T; destroy(): this; [Symbol.asyncIterator](): AsyncIterator<unknown>; }
  export interface ClientRequest { end(): void; }
  export function get(url: string, cb?: (res: IncomingMessage) => void): ClientRequest;
  export function request(url: string, opts: object, cb?: (res: IncomingMessage) => void): ClientRequest;
}`,
};
const imp = `import * as http from "node:http";\n`;
const s3 = `interface SdkStream { transformToString(): Promise<string>; destroy(): void; }
interface GetObjectOutput { Body?: SdkStream; ContentLength?: number; Metadata?: Record<string, string>; }
interface HeadObjectOutput { ContentLength?: number; }
declare const client: { send(c: "get"): Promise<GetObjectOutput>; send(c: "head"): Promise<HeadObjectOutput>; };
`;

const undici = {
  "node_modules/undici/package.json": `{"name":"undici","types":"index.d.ts"}`,
  "node_modules/undici/index.d.ts": `export interface BodyReadable { text(): Promise<string>; json(): Promise<unknown>; dump(): Promise<void>; pipe<T>(d: T): T; destroy(): void; }
export interface ResponseData { statusCode: number; headers: Record<string, string | string[] | undefined>; body: BodyReadable; }
export declare function request(url: string, opts?: { method?: string }): Promise<ResponseData>;`,
};
const undiciImp = `import { request } from "undici";\n`;

ruleTester(unconsumedBody, {
  valid: [
    {
      name: "undici: the body destructured and read",
      code: undiciImp + `async function f(u: string) { const { statusCode, body } = await request(u); await body.dump(); return statusCode; }`,
      files: undici,
    },
    {
      name: "undici: the response's body read through the object",
      code: undiciImp + `async function f(u: string) { const res = await request(u); return res.statusCode === 200 ? res.body.json() : null; }`,
      files: undici,
    },
    {
      name: "undici: the whole response handed to the caller",
      code: undiciImp + `async function f(u: string) { const res = await request(u); return res; }`,
      files: undici,
    },
    {
      name: "a request() that is not undici's, with a body field",
      code: `declare function request(u: string): Promise<{ headers: object; body: { text(): Promise<string>; pipe(): void } }>;\nasync function f(u: string) { const { headers } = await request(u); return headers; }\nexport {};`,
    },
    {
      name: "body read",
      code: `async function f(u: string) { const res = await fetch(u); if (!res.ok) throw new Error(String(res.status)); return res.json(); }`,
    },
    { name: "body cancelled", code: `async function f(u: string) { const res = await fetch(u); await res.body?.cancel(); return res.status; }` },
    { name: "response returned to the caller", code: `async function f(u: string) { const res = await fetch(u); return res; }` },
    {
      name: "response passed on",
      code: `declare function parse(r: Response): Promise<unknown>;\nasync function f(u: string) { const res = await fetch(u); return parse(res); }`,
    },
    { name: "response read in a closure", code: `async function f(u: string) { const res = await fetch(u); return () => res.text(); }` },
    {
      name: "a fetch of your own",
      code: `declare function fetch(u: string): Promise<{ status: number }>;\nasync function f(u: string) { const res = await fetch(u); return res.status; }\nexport {};`,
    },
    { name: "returned without await", code: `function f(u: string) { return fetch(u); }` },
    {
      name: "IncomingMessage resumed",
      code: imp + `function f(u: string) { http.get(u, (res) => { if (res.statusCode !== 200) console.warn(res.statusCode); res.resume(); }); }`,
      files: http,
    },
    {
      name: "IncomingMessage read with on('data')",
      code:
        imp +
        `function f(u: string) { http.get(u, (res) => { let n = 0; res.on("data", (c) => { n += String(c).length; }); res.on("end", () => console.log(n)); }); }`,
      files: http,
    },
    {
      name: "IncomingMessage piped",
      code: imp + `declare const out: NodeJS.WritableStream;\nfunction f(u: string) { http.request(u, {}, (res) => { res.pipe(out); }).end(); }`,
      files: { ...http, "typings/g.d.ts": "declare namespace NodeJS { interface WritableStream {} }" },
    },
    {
      name: "IncomingMessage handed on",
      code: imp + `declare function collect(r: http.IncomingMessage): void;\nfunction f(u: string) { http.get(u, (res) => collect(res)); }`,
      files: http,
    },
    {
      name: "IncomingMessage iterated",
      code: imp + `function f(u: string) { http.get(u, async (res) => { for await (const c of res) console.log(c); }); }`,
      files: http,
    },
    { name: "SDK body read", code: s3 + `async function f() { const out = await client.send("get"); return out.Body?.transformToString(); }` },
    {
      name: "SDK body destructured and read",
      code: s3 + `async function f() { const { Body, ContentLength } = await client.send("get"); return [ContentLength, await Body?.transformToString()]; }`,
    },
    {
      name: "SDK output handed on",
      code: s3 + `declare function keep(o: GetObjectOutput): void;\nasync function f() { const out = await client.send("get"); keep(out); }`,
    },
    { name: "an SDK output without a body", code: s3 + `async function f() { const { ContentLength } = await client.send("head"); return ContentLength; }` },
  ],
  invalid: [
    {
      name: "undici: only the headers destructured, the body left unread (sanity#12681)",
      code: undiciImp + `async function f(u: string) {\n  const { headers } = await request(u);\n  return headers["x-shard"];\n}`,
      files: undici,
      findings: [{ line: 3, summary: /the streamed `body` of `request\(…\)` is left out of the destructuring/, fix: /dump/ }],
    },
    {
      name: "undici: the status read, the body never touched",
      code: undiciImp + `async function f(u: string) {\n  const res = await request(u);\n  return res.statusCode;\n}`,
      files: undici,
      findings: [{ line: 3, summary: /its streamed `body` is never read/ }],
    },
    {
      name: "status only",
      code: `async function f(u: string) {\n  const res = await fetch(u, { method: "HEAD" });\n  return res.ok;\n}`,
      findings: [{ line: 2, summary: /`res` .* status or headers only/, fix: /body\?\.cancel/ }],
    },
    {
      name: "a dropped response",
      code: `async function f(u: string) {\n  await fetch(u, { method: "POST", body: "x" });\n}`,
      findings: [{ line: 2, summary: /dropped with its body unread/ }],
    },
    {
      name: "SDK body left out of the destructuring",
      code: s3 + `async function f() {\n  const { ContentLength } = await client.send("get");\n  return ContentLength;\n}`,
      findings: [{ line: 6, summary: /streamed `Body` .* left out of the destructuring/, fix: /HeadObjectCommand/ }],
    },
    {
      name: "SDK output read for metadata only",
      code: s3 + `async function f() {\n  const out = await client.send("get");\n  return out.Metadata;\n}`,
      findings: [{ line: 6, summary: /metadata only/ }],
    },
    {
      name: "an IncomingMessage whose status only is read",
      code: imp + `function f(u: string) {\n  http.get(u, (res) => {\n    console.log(res.statusCode, res.headers["content-type"]);\n  });\n}`,
      files: http,
      findings: [{ line: 3, summary: /never read, resumed or destroyed/, fix: /resume\(\)/ }],
    },
  ],
});
