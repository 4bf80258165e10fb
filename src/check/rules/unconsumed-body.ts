/**
 * unconsumed-body: an HTTP response whose body is never read, cancelled or destroyed: a fetch
 * `Response`, the `http.IncomingMessage` handed to an `http.get` / `http.request` callback, or
 * an SDK output whose `Body` is a stream (the AWS SDK's `GetObject`).
 * Until its body is consumed the response keeps its connection checked out of the agent's pool
 * (undici and Node's http agent both say so), so a loop of status checks runs the pool dry and
 * later requests queue behind sockets nobody reads.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { calleeName, calleeSymbol, callText, declaredIn, isFromNodeModule, isPlatformSymbol, unwrap } from "../analysis/ts-util.js";

/** What reads or releases a fetch Response's body. */
const RESPONSE_CONSUMERS = new Set(["json", "text", "arrayBuffer", "blob", "formData", "bytes", "body", "clone"]);
/** What reads or releases an IncomingMessage. */
const MESSAGE_CONSUMERS = new Set([
  "resume",
  "pipe",
  "read",
  "destroy",
  "toArray",
  "forEach",
  "map",
  "filter",
  "reduce",
  "some",
  "every",
  "find",
  "take",
  "drop",
  "iterator",
  "setEncoding",
  "unpipe",
  "compose",
]);
const LISTEN = new Set(["on", "once", "addListener", "prependListener", "prependOnceListener"]);
const DATA_EVENTS = new Set(["data", "readable"]);

function isFetch(program: ts.Program, checker: ts.TypeChecker, call: ts.CallExpression): boolean {
  if (calleeName(call) !== "fetch") return false;
  const sym = calleeSymbol(checker, call);
  return isPlatformSymbol(program, sym) || declaredIn(sym, "undici") || declaredIn(sym, "node-fetch");
}

/** `consumed`: the body is read or released; `escapes`: the value is handed on, so its new owner may; `kept`: neither. */
function uses(refs: readonly ts.Identifier[], consumers: ReadonlySet<string>, owner: ts.Node): "consumed" | "escapes" | "kept" {
  let result: "consumed" | "escapes" | "kept" = "kept";
  for (const r of refs) {
    if (ts.findAncestor(r.parent, ts.isFunctionLike) !== owner) return "escapes"; // a closure may read it later
    let n: ts.Node = r;
    while (ts.isParenthesizedExpression(n.parent) || ts.isNonNullExpression(n.parent) || ts.isAsExpression(n.parent)) n = n.parent;
    const p = n.parent;
    if (ts.isPropertyAccessExpression(p) && p.expression === n) {
      const m = p.name.text;
      if (consumers.has(m)) return "consumed";
      if (LISTEN.has(m) && ts.isCallExpression(p.parent)) {
        const ev = p.parent.arguments[0];
        if (ev && ts.isStringLiteralLike(ev) && DATA_EVENTS.has(ev.text)) return "consumed";
        if (!ev || !ts.isStringLiteralLike(ev)) result = "escapes";
      }
      continue; // .status, .ok, .headers, .statusCode: reading metadata leaves the body where it is
    }
    if (ts.isElementAccessExpression(p) && p.expression === n) return "escapes";
    if (ts.isForOfStatement(p) && p.expression === n) return "consumed";
    if (
      ts.isIfStatement(p) ||
      ts.isPrefixUnaryExpression(p) ||
      ts.isTypeOfExpression(p) ||
      (ts.isBinaryExpression(p) && p.operatorToken.kind !== ts.SyntaxKind.EqualsToken)
    )
      continue;
    if (ts.isExpressionStatement(p) || ts.isVoidExpression(p)) continue;
    return "escapes"; // returned, passed to a call, stored, spread, put in a literal
  }
  return result;
}

function references(scope: ts.Node, name: ts.Identifier, checker: ts.TypeChecker): ts.Identifier[] {
  const sym = checker.getSymbolAtLocation(name);
  const out: ts.Identifier[] = [];
  const go = (n: ts.Node): void => {
    if (ts.isIdentifier(n) && n !== name && n.text === name.text) {
      const p = n.parent;
      const isName = (ts.isPropertyAccessExpression(p) && p.name === n) || (ts.isPropertyAssignment(p) && p.name === n);
      if (!isName && (ts.isShorthandPropertyAssignment(p) || checker.getSymbolAtLocation(n) === sym)) out.push(n);
    }
    ts.forEachChild(n, go);
  };
  go(scope);
  return out;
}

export const unconsumedBody: Rule = {
  meta: {
    id: "unconsumed-body",
    description:
      "an HTTP response (fetch Response, http.IncomingMessage, an SDK's streamed Body) whose body is never read, cancelled or destroyed: it keeps its connection checked out",
    certainty: "potential",
    defaultSeverity: "warning",
    scope: "file",
  },
  checkFile(ctx) {
    const { program, checker, sourceFile } = ctx;
    const text = sourceFile.text;
    const hasFetch = text.includes("fetch(");
    const hasHttp = /\b(get|request)\s*\(/.test(text) && /["']node:https?["']|["']https?["']/.test(text);
    // the AWS SDK's name for a streamed payload (GetObject's output): only files that say it
    const hasSdkBody = text.includes("Body");
    // undici's request(): its `body` is a stream to read, `dump()` or destroy
    const hasUndici = text.includes("undici");
    if (!hasFetch && !hasHttp && !hasSdkBody && !hasUndici) return;
    const visit = (n: ts.Node): void => {
      if (hasFetch && ts.isCallExpression(n) && calleeName(n) === "fetch") checkFetch(n);
      if (hasHttp && ts.isCallExpression(n)) checkHttp(n);
      if ((hasSdkBody || hasUndici) && ts.isVariableDeclaration(n) && n.initializer && ts.isAwaitExpression(unwrap(n.initializer))) checkSdkOutput(n);
      ts.forEachChild(n, visit);
    };
    const checkSdkOutput = (d: ts.VariableDeclaration): void => {
      const call = unwrap((unwrap(d.initializer!) as ts.AwaitExpression).expression);
      if (!ts.isCallExpression(call) || calleeName(call) === "fetch") return;
      if (!hasSdkBody && calleeName(call) !== "request") return;
      const prop = hasUndici && calleeName(call) === "request" && declaredIn(calleeSymbol(checker, call), "undici") ? "body" : "Body";
      if (prop === "Body" && !hasSdkBody) return;
      const pool = prop === "body" ? "undici's connection pool (the dispatcher's)" : "the SDK's pool";
      const type = checker.getTypeAtLocation(d.name);
      const body = type.getProperty(prop);
      if (!body) return;
      const bodyType = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(body, d));
      const parts = bodyType.isUnion() ? bodyType.types : [bodyType];
      // a stream: Node's Readable, a web ReadableStream, or the SDK's mixin over them
      if (!parts.some((t) => t.getProperty("transformToString") || t.getProperty("pipe") || t.getProperty("getReader"))) return;
      if (ts.isObjectBindingPattern(d.name)) {
        const names = d.name.elements.map((e) => (e.propertyName ?? e.name).getText());
        if (names.includes(prop) || d.name.elements.some((e) => e.dotDotDotToken)) return;
        ctx.report({
          node: d.name,
          summary: `the streamed \`${prop}\` of \`${callText(call)}\` is left out of the destructuring, so it is never read or destroyed: it keeps the connection checked out of ${pool}`,
          fix:
            prop === "body"
              ? 'take `body` and read or discard it (`await body.text()`, `await body.dump()`), or ask with `method: "HEAD"` when only the headers matter'
              : "ask for what you need without a body (a HEAD request: `HeadObjectCommand`), or take `Body` and consume or destroy it (`await Body.transformToString()`, `Body.destroy()`)",
        });
        return;
      }
      if (!ts.isIdentifier(d.name)) return;
      const fn = ts.findAncestor(d, ts.isFunctionLike) ?? sourceFile;
      const refs = references(fn, d.name, checker);
      // touching `.Body` at all counts: what is done with it is the stream's business
      if (
        refs.some(
          (r) =>
            !(ts.isPropertyAccessExpression(r.parent) && r.parent.expression === r) ||
            r.parent.name.text === prop ||
            ts.findAncestor(r.parent, ts.isFunctionLike) !== fn,
        )
      )
        return;
      ctx.report({
        node: d.name,
        summary: `\`${d.name.text}\` (from \`${callText(call)}\`) is read for its metadata only: its streamed \`${prop}\` is never read or destroyed, so it keeps the connection checked out of ${pool}`,
        fix:
          prop === "body"
            ? `read or discard \`${d.name.text}.body\` (\`await ${d.name.text}.body.text()\`, \`await ${d.name.text}.body.dump()\`)`
            : `consume or destroy \`${d.name.text}.Body\` (\`await ${d.name.text}.Body.transformToString()\`, or \`destroy()\` it), or ask without a body (\`HeadObjectCommand\`)`,
      });
    };
    const checkFetch = (call: ts.CallExpression): void => {
      let p: ts.Node = call.parent;
      while (ts.isParenthesizedExpression(p)) p = p.parent;
      if (!ts.isAwaitExpression(p)) return;
      let top: ts.Node = p;
      while (ts.isParenthesizedExpression(top.parent)) top = top.parent;
      const holder = top.parent;
      const dropped = ts.isExpressionStatement(holder);
      const declared = ts.isVariableDeclaration(holder) && ts.isIdentifier(holder.name) ? holder : undefined;
      if (!dropped && !declared) return;
      if (!isFetch(program, checker, call)) return;
      if (dropped) {
        ctx.report({
          node: call,
          summary: `the response of \`${callText(call)}\` is dropped with its body unread: the body keeps the connection checked out until it is garbage-collected`,
          fix: "read or cancel the body: `const res = await fetch(…); await res.body?.cancel();` (or `await res.text()` when you want it)",
        });
        return;
      }
      const fn = ts.findAncestor(declared, ts.isFunctionLike) ?? sourceFile;
      const name = declared!.name as ts.Identifier;
      const use = uses(references(fn, name, checker), RESPONSE_CONSUMERS, fn);
      if (use !== "kept") return;
      ctx.report({
        node: name,
        summary: `\`${name.text}\` (from \`${callText(call)}\`) is read for its status or headers only: its body is never read or cancelled, so it keeps the connection checked out until it is garbage-collected`,
        fix: `consume or cancel the body on every path: \`await ${name.text}.body?.cancel()\` when you do not need it, \`await ${name.text}.json()\` when you do`,
      });
    };
    const checkHttp = (call: ts.CallExpression): void => {
      const name = calleeName(call);
      if (name !== "get" && name !== "request") return;
      const cb = [...call.arguments]
        .reverse()
        .map(unwrap)
        .find((a): a is ts.ArrowFunction | ts.FunctionExpression => ts.isArrowFunction(a) || ts.isFunctionExpression(a));
      const param = cb?.parameters[0];
      if (!cb || !param || !ts.isIdentifier(param.name)) return;
      if (!isFromNodeModule(calleeSymbol(checker, call), ["http", "https"])) return;
      const use = uses(references(cb, param.name, checker), MESSAGE_CONSUMERS, cb);
      if (use !== "kept") return;
      ctx.report({
        node: param.name,
        summary: `the response \`${param.name.text}\` of \`${callText(call)}\` is never read, resumed or destroyed: its body stays in the socket, which stays checked out of the agent's pool`,
        fix: `call \`${param.name.text}.resume()\` to discard the body (or read it: \`${param.name.text}.on("data", …)\`, \`pipeline(${param.name.text}, …)\`)`,
      });
    };
    visit(sourceFile);
  },
};
