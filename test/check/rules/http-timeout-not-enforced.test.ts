import { httpTimeoutNotEnforced } from "../../../src/check/rules/http-timeout-not-enforced.js";
import { ruleTester } from "../rule-tester.js";

const http = {
  "typings/@types/node/http.d.ts": `declare module "node:http" {
  export interface ClientRequest { setTimeout(ms: number, cb?: () => void): this; on(ev: string, fn: (...a: unknown[]) => void): this; destroy(e?: Error): this; end(): void; }
  export function request(url: string, opts?: { timeout?: number; signal?: AbortSignal; method?: string }, cb?: (res: unknown) => void): ClientRequest;
  export function get(url: string, opts?: { timeout?: number }): ClientRequest;
}`,
};
const imp = `import * as http from "node:http";\n`;

ruleTester(httpTimeoutNotEnforced, {
  valid: [
    {
      name: "a timeout listener that destroys (chained)",
      code: imp + `function f(u: string) { http.request(u, { timeout: 1000 }).on("timeout", function (this: http.ClientRequest) { this.destroy(); }).end(); }`,
      files: http,
    },
    {
      name: "a timeout listener that destroys (through the const)",
      code:
        imp +
        `function f(u: string) { const req = http.request(u, { timeout: 1000 }); req.on("timeout", () => req.destroy(new Error("timed out"))); req.end(); }`,
      files: http,
    },
    {
      name: "setTimeout with a callback that destroys",
      code: imp + `function f(u: string) { const req = http.get(u); req.setTimeout(1000, () => req.destroy()); }`,
      files: http,
    },
    {
      name: "a listener passed by reference (trusted)",
      code: imp + `declare function onTimeout(): void;\nfunction f(u: string) { const req = http.get(u, { timeout: 5 }); req.on("timeout", onTimeout); }`,
      files: http,
    },
    {
      name: "an abort signal bounds it",
      code: imp + `function f(u: string) { http.request(u, { timeout: 1000, signal: AbortSignal.timeout(1000) }).end(); }`,
      files: http,
    },
    {
      name: "the request is handed on (its owner may listen)",
      code: imp + `declare function send(r: http.ClientRequest): void;\nfunction f(u: string) { const req = http.request(u, { timeout: 1000 }); send(req); }`,
      files: http,
    },
    { name: "returned to the caller", code: imp + `function f(u: string) { return http.request(u, { timeout: 1000 }); }`, files: http },
    { name: "no timeout at all (missing-timeout's finding)", code: imp + `function f(u: string) { http.get(u); }`, files: http },
    { name: "a Map's get with a timeout-shaped object", code: `function f(m: Map<object, number>) { m.get({ timeout: 1 }); }` },
  ],
  invalid: [
    {
      name: "timeout option, no listener",
      code: imp + `function f(u: string) {\n  http.request(u, { method: "GET", timeout: 1000 }).end();\n}`,
      files: http,
      findings: [{ line: 3, summary: /sets a `timeout` option, but nothing destroys the request/, fix: /req\.destroy/ }],
    },
    {
      name: "a timeout listener that only logs",
      code: imp + `function f(u: string) {\n  const req = http.get(u, { timeout: 1000 });\n  req.on("timeout", () => console.warn("slow"));\n}`,
      files: http,
      findings: [{ line: 3 }],
    },
    {
      name: "setTimeout(ms) with no callback",
      code: imp + `function f(u: string) {\n  const req = http.get(u);\n  req.setTimeout(1000);\n  req.end();\n}`,
      files: http,
      findings: [{ line: 4, summary: /`setTimeout\(ms\)`/ }],
    },
  ],
});
