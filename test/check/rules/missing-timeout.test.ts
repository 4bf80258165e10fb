import { missingTimeout } from "../../../src/check/rules/missing-timeout.js";
import { ruleTester } from "../rule-tester.js";

const undici = {
  "node_modules/undici/package.json": `{"name":"undici","types":"index.d.ts"}`,
  "node_modules/undici/index.d.ts": `export declare function request(url: string, opts?: { signal?: AbortSignal; headersTimeout?: number; bodyTimeout?: number; method?: string }): Promise<{ statusCode: number }>;`,
};
const http = {
  "typings/@types/node/http.d.ts": `declare module "node:http" { export interface ClientRequest { setTimeout(ms: number): this; end(): void; } export function request(url: string, opts?: { timeout?: number; signal?: AbortSignal; method?: string }): ClientRequest; export function get(url: string, opts?: { timeout?: number }): ClientRequest; }`,
};
const axios = {
  "node_modules/axios/package.json": `{"name":"axios","types":"index.d.ts"}`,
  "node_modules/axios/index.d.ts": `export interface Config { timeout?: number; signal?: AbortSignal; baseURL?: string }\nexport interface Instance { get(url: string, c?: Config): Promise<unknown>; post(url: string, body?: unknown, c?: Config): Promise<unknown>; }\ndeclare const axios: Instance & { create(c?: Config): Instance };\nexport default axios;`,
};
const withTimeout = `declare function withTimeout<T>(op: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T>;\n`;

ruleTester(missingTimeout, {
  valid: [
    { name: "fetch with AbortSignal.timeout", code: `async function f(u: string) { return fetch(u, { signal: AbortSignal.timeout(5000) }); }` },
    { name: "fetch with the caller's signal", code: `async function f(u: string, signal: AbortSignal) { return fetch(u, { method: "POST", signal }); }` },
    { name: "fetch inside withTimeout", code: withTimeout + `async function f(u: string) { return withTimeout(() => fetch(u), 5000); }` },
    { name: "fetch with options we cannot see", code: `async function f(u: string, init: RequestInit) { return fetch(u, init); }` },
    { name: "fetch with spread options", code: `async function f(u: string, init: RequestInit) { return fetch(u, { ...init, method: "GET" }); }` },
    { name: "fetch raced against a timer", code: `async function f(u: string, t: Promise<never>) { return Promise.race([fetch(u), t]); }` },
    {
      name: "undici with headersTimeout",
      code: `import { request } from "undici";\nasync function f(u: string) { return request(u, { headersTimeout: 1000 }); }`,
      files: undici,
    },
    {
      name: "http.request with timeout",
      code: `import * as http from "node:http";\nfunction f(u: string) { http.request(u, { timeout: 1000 }).end(); }`,
      files: http,
    },
    {
      name: "http.get then setTimeout",
      code: `import * as http from "node:http";\nfunction f(u: string) { const req = http.get(u); req.setTimeout(1000); }`,
      files: http,
    },
    {
      name: "axios client built with a timeout",
      code: `import axios from "axios";\nconst api = axios.create({ timeout: 5000 });\nasync function f() { return api.get("/x"); }`,
      files: axios,
    },
    {
      name: "axios call with a timeout",
      code: `import axios from "axios";\nasync function f() { return axios.post("/x", {}, { timeout: 100 }); }`,
      files: axios,
    },
    { name: "a user function named fetch", code: `async function fetch(key: string) { return key; }\nasync function f() { return fetch("k"); }` },
  ],
  invalid: [
    {
      name: "bare fetch",
      code: `async function f(u: string) {\n  return fetch(u);\n}`,
      findings: [{ line: 2, summary: /fetch.*no timeout/, fix: /AbortSignal\.timeout/ }],
    },
    {
      name: "fetch with options but no signal",
      code: `async function f(u: string) {\n  return fetch(u, { method: "POST", body: "x" });\n}`,
      findings: [{ line: 2 }],
    },
    {
      name: "undici request",
      code: `import { request } from "undici";\nasync function f(u: string) {\n  return request(u, { method: "GET" });\n}`,
      files: undici,
      findings: [{ line: 3, summary: /undici request/ }],
    },
    { name: "http.get", code: `import * as http from "node:http";\nfunction f(u: string) {\n  http.get(u);\n}`, files: http, findings: [{ line: 3 }] },
    {
      name: "axios without timeout",
      code: `import axios from "axios";\nasync function f() {\n  return axios.get("/x");\n}`,
      files: axios,
      findings: [{ line: 3, summary: /axios get/ }],
    },
    {
      name: "axios client built without a timeout",
      code: `import axios from "axios";\nconst api = axios.create({ baseURL: "/" });\nasync function f() {\n  return api.post("/x", {});\n}`,
      files: axios,
      findings: [{ line: 4 }],
    },
  ],
});
