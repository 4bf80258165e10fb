/**
 * missing-timeout: a network call with no timeout and no AbortSignal in reach. When the peer
 * stops answering, the await waits as long as the socket does, and whatever holds a lock, a
 * pool connection or a request slot meanwhile is stuck with it.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { calleeName, calleeSymbol, callText, declaredIn, isFromNodeModule, isPlatformSymbol, unwrap } from "../analysis/ts-util.js";

/** A client library whose methods go to the network. */
export interface ClientSpec {
  /** The package that declares the client (`axios`). */
  readonly package: string;
  /** Its methods that make a request. */
  readonly methods: readonly string[];
  /** Option keys that bound the request (`timeout`, `signal`). */
  readonly timeoutKeys: readonly string[];
}

const DEFAULT_CLIENTS: readonly ClientSpec[] = [
  { package: "axios", methods: ["get", "post", "put", "patch", "delete", "head", "options", "request"], timeoutKeys: ["timeout", "signal"] },
];
const DEFAULT_WRAPPERS = ["withTimeout", "pTimeout", "timeout", "withDeadline", "race"];

interface Target {
  readonly what: string;
  /** Indices of the arguments that may carry options. */
  readonly optionArgs: readonly number[];
  readonly keys: readonly string[];
  /** A client object the call goes through (`api.get`), to look for a timeout at its construction. */
  readonly receiver?: ts.Expression;
  readonly pkg?: string;
}

/** The packages of `clients` that the program loads at all (no client code, no client calls to find). */
const presentCache = new WeakMap<ts.Program, Map<string, boolean>>();
function packagePresent(program: ts.Program, pkg: string): boolean {
  let m = presentCache.get(program);
  if (!m) {
    const fresh: NonNullable<ReturnType<typeof presentCache.get>> = new Map();
    presentCache.set(program, (m = fresh));
  }
  let v = m.get(pkg);
  if (v === undefined) {
    v = program.getSourceFiles().some((f) => f.fileName.includes(`/node_modules/${pkg}/`) || f.fileName.includes(`/node_modules/@types/${pkg}/`));
    m.set(pkg, v);
  }
  return v;
}

const NETWORK_NAMES = new Set(["fetch", "request", "stream", "get"]);

function classify(program: ts.Program, checker: ts.TypeChecker, call: ts.CallExpression, clients: readonly ClientSpec[]): Target | undefined {
  const name = calleeName(call);
  if (!name) return undefined;
  const callee0 = unwrap(call.expression);
  // cheap filters first: resolving the callee's symbol means typing its receiver
  const viaClient = ts.isPropertyAccessExpression(callee0) && clients.some((c) => c.methods.includes(name) && packagePresent(program, c.package));
  const plain =
    NETWORK_NAMES.has(name) && (ts.isIdentifier(callee0) || (ts.isPropertyAccessExpression(callee0) && ts.isIdentifier(unwrap(callee0.expression))));
  if (!viaClient && !plain) return undefined;
  const sym = calleeSymbol(checker, call);
  if (name === "fetch") {
    if (isPlatformSymbol(program, sym) || declaredIn(sym, "undici")) return { what: "fetch", optionArgs: [1], keys: ["signal"] };
    if (declaredIn(sym, "node-fetch")) return { what: "fetch", optionArgs: [1], keys: ["signal", "timeout"] };
  }
  if ((name === "request" || name === "stream") && declaredIn(sym, "undici")) {
    return { what: `undici ${name}`, optionArgs: [1], keys: ["signal", "headersTimeout", "bodyTimeout"] };
  }
  if ((name === "request" || name === "get") && isFromNodeModule(sym, ["http", "https"])) {
    return { what: `http ${name}`, optionArgs: [0, 1], keys: ["timeout", "signal"] };
  }
  const callee = unwrap(call.expression);
  if (ts.isPropertyAccessExpression(callee)) {
    for (const c of clients) {
      if (c.methods.includes(name) && declaredIn(sym, c.package)) {
        return { what: `${c.package} ${name}`, optionArgs: call.arguments.map((_, i) => i), keys: c.timeoutKeys, receiver: callee.expression, pkg: c.package };
      }
    }
  }
  return undefined;
}

/** yes: an option bounds it; unknown: options we cannot see (a variable, a spread); no: none. */
function optionsBound(checker: ts.TypeChecker, arg: ts.Expression | undefined, keys: readonly string[]): "yes" | "no" | "unknown" {
  if (!arg) return "no";
  const a = unwrap(arg);
  if (!ts.isObjectLiteralExpression(a)) {
    if (ts.isStringLiteralLike(a) || ts.isTemplateExpression(a)) return "no";
    // a URL or a string: the address, not options
    const t = checker.getNonNullableType(checker.getTypeAtLocation(a));
    if (t.flags & ts.TypeFlags.StringLike || (t.getProperty("href") && t.getProperty("pathname"))) return "no";
    return "unknown";
  }
  let unknown = false;
  for (const p of a.properties) {
    if (ts.isSpreadAssignment(p)) unknown = true;
    const n = p.name;
    if (n && (ts.isIdentifier(n) || ts.isStringLiteral(n)) && keys.includes(n.text)) return "yes";
    if (n && ts.isComputedPropertyName(n)) unknown = true;
  }
  return unknown ? "unknown" : "no";
}

function insideWrapper(call: ts.Node, wrappers: readonly string[]): boolean {
  for (let cur = call.parent; cur; cur = cur.parent) {
    if (ts.isCallExpression(cur)) {
      const name = calleeName(cur);
      if (name && wrappers.includes(name)) return true;
    }
  }
  return false;
}

/** `const api = axios.create({ timeout: 5000 })`: the client was built with a bound. */
function clientBuiltWithBound(checker: ts.TypeChecker, receiver: ts.Expression, keys: readonly string[]): boolean {
  const r = unwrap(receiver);
  const sym = ts.isIdentifier(r) || ts.isPropertyAccessExpression(r) ? checker.getSymbolAtLocation(ts.isPropertyAccessExpression(r) ? r.name : r) : undefined;
  for (const d of sym?.declarations ?? []) {
    const init = ts.isVariableDeclaration(d) || ts.isPropertyDeclaration(d) ? d.initializer : undefined;
    if (!init) continue;
    const i = unwrap(init);
    if ((ts.isCallExpression(i) || ts.isNewExpression(i)) && (i.arguments ?? []).some((a) => optionsBound(checker, a, keys) !== "no")) return true;
  }
  return false;
}

/** `x.defaults.timeout = …` anywhere in the program: the package's default instance is bounded. */
const defaultsCache = new WeakMap<ts.Program, boolean>();
function defaultsSet(program: ts.Program): boolean {
  let v = defaultsCache.get(program);
  if (v === undefined) {
    v = program.getSourceFiles().some((f) => !f.isDeclarationFile && !f.fileName.includes("/node_modules/") && /\.defaults\.timeout\s*=/.test(f.text));
    defaultsCache.set(program, v);
  }
  return v;
}

/** `const req = http.request(…); req.setTimeout(…)` */
function boundAfterwards(call: ts.CallExpression): boolean {
  let p: ts.Node = call.parent;
  while (ts.isParenthesizedExpression(p) || ts.isAwaitExpression(p)) p = p.parent;
  if (ts.isPropertyAccessExpression(p) && p.name.text === "setTimeout") return true;
  if (!ts.isVariableDeclaration(p) || !ts.isIdentifier(p.name)) return false;
  const name = p.name.text;
  let scope: ts.Node = p;
  while (scope.parent && !ts.isFunctionLike(scope) && !ts.isSourceFile(scope)) scope = scope.parent;
  let found = false;
  const go = (n: ts.Node): void => {
    if (found) return;
    if (ts.isPropertyAccessExpression(n) && n.name.text === "setTimeout" && ts.isIdentifier(n.expression) && n.expression.text === name) found = true;
    ts.forEachChild(n, go);
  };
  go(scope);
  return found;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === "string") ? v : undefined;
}

function clientList(v: unknown): ClientSpec[] {
  if (!Array.isArray(v)) return [];
  return v.filter(
    (c): c is ClientSpec =>
      c !== null &&
      typeof c === "object" &&
      typeof (c as ClientSpec).package === "string" &&
      stringList((c as ClientSpec).methods) !== undefined &&
      stringList((c as ClientSpec).timeoutKeys) !== undefined,
  );
}

export const missingTimeout: Rule = {
  meta: {
    id: "missing-timeout",
    description: "a network call (fetch, undici, http(s).request/get, configured clients) with no timeout or AbortSignal in reach",
    certainty: "potential",
    defaultSeverity: "warning",
    scope: "file",
    optionsSchema: {
      type: "object",
      properties: {
        wrappers: { type: "array", items: { type: "string" }, description: "functions that bound what runs inside them (added to withTimeout, pTimeout, …)" },
        clients: {
          type: "array",
          description: "client libraries whose methods go to the network",
          items: {
            type: "object",
            properties: {
              package: { type: "string" },
              methods: { type: "array", items: { type: "string" } },
              timeoutKeys: { type: "array", items: { type: "string" } },
            },
            required: ["package", "methods", "timeoutKeys"],
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
  },
  checkFile(ctx) {
    const { checker, program, sourceFile } = ctx;
    const clients = [...DEFAULT_CLIENTS, ...clientList(ctx.options.clients)];
    const wrappers = [...DEFAULT_WRAPPERS, ...(stringList(ctx.options.wrappers) ?? [])];
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n)) check(n);
      ts.forEachChild(n, visit);
    };
    const check = (call: ts.CallExpression): void => {
      const t = classify(program, checker, call, clients);
      if (!t) return;
      const states = t.optionArgs.map((i) => optionsBound(checker, call.arguments[i], t.keys));
      if (states.some((s) => s !== "no")) return;
      if (insideWrapper(call, wrappers)) return;
      if (t.receiver && clientBuiltWithBound(checker, t.receiver, t.keys)) return;
      if (t.pkg && defaultsSet(program)) return;
      if (t.what.startsWith("http ") && boundAfterwards(call)) return;
      const keys = t.keys.map((k) => `\`${k}\``).join(" or ");
      const fix =
        t.what === "fetch"
          ? "pass `signal: AbortSignal.timeout(ms)` (or the caller's signal, combined with `AbortSignal.any`), or wrap the call in `withTimeout`"
          : `pass ${keys} (e.g. \`signal: AbortSignal.timeout(ms)\`), or wrap the call in \`withTimeout\``;
      ctx.report({
        node: call,
        summary: `\`${callText(call)}\` (${t.what}) has no timeout and no abort signal: if the peer stops answering, this await waits as long as the socket does, holding whatever its caller holds`,
        fix,
      });
    };
    visit(sourceFile);
  },
};
