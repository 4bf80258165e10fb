/**
 * http-timeout-not-enforced: `http.request(url, { timeout })` (or `req.setTimeout(ms)`) with no
 * 'timeout' listener that destroys the request. Node only emits 'timeout' when the socket has
 * been idle that long; it does not end the request, so the request, and whatever awaits it,
 * hangs on exactly as if no timeout had been set.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { calleeName, calleeSymbol, callText, isFromNodeModule, unwrap } from "../analysis/ts-util.js";

const REQUESTS = new Set(["request", "get"]);
const LISTEN = new Set(["on", "once", "addListener", "prependListener", "prependOnceListener"]);

/** The `timeout` property of an options object literal among the arguments; whether a `signal` bounds the request anyway. */
function timeoutOption(call: ts.CallExpression): { prop: ts.ObjectLiteralElementLike | undefined; signal: boolean } {
  let prop: ts.ObjectLiteralElementLike | undefined;
  let signal = false;
  for (const a of call.arguments.slice(0, 2)) {
    const u = unwrap(a);
    if (!ts.isObjectLiteralExpression(u)) continue;
    for (const p of u.properties) {
      const n = p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;
      if (n === "timeout") prop = p;
      if (n === "signal") signal = true;
    }
  }
  return { prop, signal };
}

/** True when `fn` ends the request: it calls `destroy(…)` or `abort()`, or is a reference we cannot read (trusted). */
function destroys(fn: ts.Expression | undefined): boolean {
  if (!fn) return false;
  const f = unwrap(fn);
  if (!ts.isArrowFunction(f) && !ts.isFunctionExpression(f)) return true;
  let found = false;
  const go = (n: ts.Node): void => {
    if (found) return;
    if (ts.isCallExpression(n)) {
      const name = calleeName(n);
      if (name === "destroy" || name === "abort" || name === "reject") found = true;
    }
    ts.forEachChild(n, go);
  };
  go(f.body);
  return found;
}

/** What is done to the request: whether a listener ends it on 'timeout', and a `setTimeout(ms)` call with no callback. */
interface Handling {
  enforced: boolean;
  bareSetTimeout: ts.CallExpression | undefined;
}

/** One call on the request (`req.on("timeout", fn)`, `req.setTimeout(ms, fn)`). */
function readCall(call: ts.CallExpression, acc: Handling): void {
  const name = calleeName(call);
  if (name !== undefined && LISTEN.has(name)) {
    const ev = call.arguments[0];
    if (ev && ts.isStringLiteralLike(ev) && ev.text === "timeout" && destroys(call.arguments[1])) acc.enforced = true;
  } else if (name === "setTimeout") {
    if (call.arguments.length >= 2) {
      if (destroys(call.arguments[1])) acc.enforced = true;
    } else acc.bareSetTimeout ??= call;
  }
}

/** Reads the calls chained on the request and, when it is kept in a `const`, those made through it in its function. */
function handling(call: ts.CallExpression): Handling | "escapes" {
  const acc: Handling = { enforced: false, bareSetTimeout: undefined };
  let top: ts.Expression = call;
  for (;;) {
    const p = top.parent;
    if (ts.isParenthesizedExpression(p)) top = p;
    else if (ts.isPropertyAccessExpression(p) && p.expression === top && ts.isCallExpression(p.parent) && p.parent.expression === p) {
      readCall(p.parent, acc);
      top = p.parent;
    } else break;
  }
  const p = top.parent;
  if (ts.isExpressionStatement(p)) return acc;
  if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name) && p.initializer === top) {
    const name = p.name.text;
    const scope = ts.findAncestor(p, (a) => ts.isFunctionLike(a) || ts.isSourceFile(a)) ?? p.getSourceFile();
    let escapes = false;
    const go = (n: ts.Node): void => {
      if (escapes) return;
      if (ts.isIdentifier(n) && n.text === name && n !== p.name) {
        const use = n.parent;
        if (ts.isPropertyAccessExpression(use) && use.expression === n) {
          if (ts.isCallExpression(use.parent) && use.parent.expression === use) readCall(use.parent, acc);
        } else escapes = true; // returned, passed on, stored: someone else may listen
      }
      ts.forEachChild(n, go);
    };
    go(scope);
    return escapes ? "escapes" : acc;
  }
  return "escapes";
}

export const httpTimeoutNotEnforced: Rule = {
  meta: {
    id: "http-timeout-not-enforced",
    description: "http(s).request/get given a timeout with no 'timeout' listener that destroys the request (Node only emits the event)",
    certainty: "proven",
    defaultSeverity: "error",
    scope: "file",
  },
  checkFile(ctx) {
    const { checker, sourceFile } = ctx;
    if (!/\b(request|get)\s*\(/.test(sourceFile.text)) return;
    const mayCallSetTimeout = sourceFile.text.includes(".setTimeout(");
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n)) check(n);
      ts.forEachChild(n, visit);
    };
    const check = (call: ts.CallExpression): void => {
      const name = calleeName(call);
      if (name === undefined || !REQUESTS.has(name)) return;
      // syntax first: resolving the callee types its receiver, and `.get(` is everywhere
      const { prop, signal } = timeoutOption(call);
      if (signal || (!prop && !mayCallSetTimeout)) return;
      if (!isFromNodeModule(calleeSymbol(checker, call), ["http", "https"])) return;
      const h = handling(call);
      if (h === "escapes" || h.enforced) return;
      const set = prop ? "`timeout` option" : h.bareSetTimeout ? "`setTimeout(ms)`" : undefined;
      if (!set) return;
      ctx.report({
        node: prop ?? h.bareSetTimeout!,
        summary: `\`${callText(call)}\` sets a ${set}, but nothing destroys the request on 'timeout': Node only emits the event, so a peer that stops answering leaves the request, and whatever awaits it, hanging as if no timeout were set`,
        fix: 'end it when the event fires: `req.on("timeout", () => req.destroy(new Error("timed out")))`, or pass `signal: AbortSignal.timeout(ms)`, which does abort',
      });
    };
    visit(sourceFile);
  },
};
