/**
 * unclosed-resource: a resource (something with close/end/destroy/release or Symbol.asyncDispose)
 * opened in a function and not closed on every path, nor returned or stored. The seed's pitfall
 * 3 (an aiohttp session never closed); `await using` closes it on every path.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { callText, firstInFunctionBetween, isThenable, unwrap } from "../analysis/ts-util.js";
import { classifyCall } from "../analysis/classify-call.js";
import { knowledgeOf } from "../knowledge/index.js";
import { packageOfTypeNode } from "../knowledge/package-knowledge.js";

const CLOSERS = ["close", "end", "destroy", "release"];
/** Calls that also close what they are called on (a tracker's shutdown, a client's disconnect). */
const CLOSING_CALLS = [...CLOSERS, "shutdown", "dispose", "disconnect", "terminate", "quit", "closeAll", "releaseLock"];
/** Types that have such a method but hold no OS resource or are managed elsewhere. */
const NOT_RESOURCES = new Set([
  "Timeout",
  "Immediate",
  "Hash",
  "Hmac",
  "Cipher",
  "Cipheriv",
  "Decipher",
  "Decipheriv",
  "Sign",
  "Verify",
  "PassThrough",
  "Transform",
  "Gzip",
  "Gunzip",
  "Deflate",
  "Inflate",
  "DeflateRaw",
  "InflateRaw",
  "Unzip",
  "BrotliCompress",
  "BrotliDecompress",
  "AbortController",
  "ChildProcess",
  "ChildProcessWithoutNullStreams",
  "ChildProcessByStdio",
  "MessageChannel",
  "Promise",
  "Array",
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "ServerResponse",
  "IncomingMessage",
  "ClientRequest",
  "Interface",
  "CipherGCM",
  "CipherCCM",
  "CipherOCB",
  "CipherChaCha20Poly1305",
  "DecipherGCM",
  "DecipherCCM",
  "DecipherOCB",
  "DecipherChaCha20Poly1305",
]);

/**
 * Calls that open something (as opposed to looking up something that already exists, like
 * `getTopology(x)` or `selectServer()`): only what a function opens is its to close.
 */
const OPENERS = /^(open|connect|create|acquire|checkout|getConnection|getClient|spawn|listen|watch|launch|start|fork|dial|newSession)/i;

function opens(init: ts.Expression, extra: readonly string[]): init is ts.CallExpression | ts.NewExpression {
  if (ts.isNewExpression(init)) return true;
  if (!ts.isCallExpression(init)) return false;
  const callee = unwrap(init.expression);
  const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
  // asyncdoctor's track(resource) hands back what it was given: `track(new Session())` opens
  const first = init.arguments[0];
  if (name === "track" && first !== undefined) return opens(unwrap(first), extra);
  return name !== undefined && (OPENERS.test(name) || extra.includes(name));
}

/** True when a package's knowledge says `t` (or a class it extends) is not a resource: a database row, a lock. */
function knownNotResource(checker: ts.TypeChecker, t: ts.Type, depth = 0): boolean {
  const sym = t.getSymbol() ?? t.aliasSymbol;
  const pkg = sym ? packageOfTypeNode(t) : undefined;
  if (sym && pkg && knowledgeOf(pkg)?.notResources?.includes(sym.getName())) return true;
  if (depth > 8) return false;
  const target = t.flags & ts.TypeFlags.Object && (t as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference ? (t as ts.TypeReference).target : t;
  return target.isClassOrInterface() && checker.getBaseTypes(target).some((b) => knownNotResource(checker, b, depth + 1));
}

function wellKnownSymbolName(name: string): boolean {
  return name === "__@asyncDispose" || name === "__@dispose" || name.startsWith("__@asyncDispose@") || name.startsWith("__@dispose@");
}

/** The closing methods `type` has, or undefined when it is not a resource. */
function closers(checker: ts.TypeChecker, type: ts.Type, ignore: ReadonlySet<string>, disposableOnly: boolean): string[] | undefined {
  const t = checker.getNonNullableType(type);
  if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return undefined;
  const sym = t.getSymbol() ?? t.aliasSymbol;
  if (sym && (NOT_RESOURCES.has(sym.getName()) || ignore.has(sym.getName()))) return undefined;
  if (knownNotResource(checker, t)) return undefined;
  const found: string[] = [];
  let disposable = false;
  for (const p of checker.getPropertiesOfType(t)) {
    const name = p.getName();
    if (wellKnownSymbolName(name)) disposable = true;
    else if (CLOSERS.includes(name)) {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      if (decl && checker.getTypeOfSymbolAtLocation(p, decl).getCallSignatures().length > 0) found.push(name);
    }
  }
  // `end` alone is a writer's "no more data" (a hash, a response), not a close
  let closing = found.filter((m) => m !== "end" || found.includes("destroy"));
  // `release` beside `acquire`/`lock` is a lock's (a semaphore's): it gives back a hold, it closes nothing
  if (closing.length === 1 && closing[0] === "release" && ["acquire", "lock", "runExclusive"].some((m) => t.getProperty(m) !== undefined)) closing = [];
  // a type that is only disposable (a task tracker, a scope) often holds nothing once its work
  // is done: reported only when the configuration asks for it
  if (closing.length === 0 && !(disposable && disposableOnly)) return undefined;
  return closing.length > 0 ? closing : ["[Symbol.asyncDispose]"];
}

/**
 * The pool a handle acquire takes a connection from (`pool.acquire()` of generic-pool, a pool
 * recognised by shape), by its text: what it hands out goes back with `pool.release(x)` or
 * `pool.destroy(x)`, whatever the type of `x`.
 */
function checkoutPool(init: ts.Expression, checker: ts.TypeChecker): string | undefined {
  if (!ts.isCallExpression(init)) return undefined;
  const use = classifyCall(init, checker);
  if (!use || use.kind !== "pool" || use.mode !== "handle" || use.transaction) return undefined;
  const target = use.targets[0];
  return target ? unwrap(target).getText() : undefined;
}

/** True when `r` is handed back to its pool: `pool.release(r)`, `pool.destroy(r)`. */
function givenBackTo(r: ts.Identifier, pool: string | undefined): boolean {
  if (pool === undefined) return false;
  const p = r.parent;
  if (!ts.isCallExpression(p) || !p.arguments.includes(r)) return false;
  const callee = unwrap(p.expression);
  return ts.isPropertyAccessExpression(callee) && ["release", "destroy"].includes(callee.name.text) && unwrap(callee.expression).getText() === pool;
}

type Use = "close" | "escape" | "use";

/** How one reference to the resource uses it. */
function classifyUse(id: ts.Identifier, methods: readonly string[]): Use {
  let n: ts.Node = id;
  while (ts.isParenthesizedExpression(n.parent) || ts.isNonNullExpression(n.parent) || ts.isAsExpression(n.parent)) n = n.parent;
  const p = n.parent;
  if (ts.isPropertyAccessExpression(p) && p.expression === n) {
    const m = p.name.text;
    if (ts.isCallExpression(p.parent) && p.parent.expression === p) {
      if (methods.includes(m) || CLOSING_CALLS.includes(m)) return "close";
      if (m === "pipe" || m === "pipeTo" || m === "pipeThrough") return "escape";
    }
    return "use";
  }
  if (ts.isElementAccessExpression(p) && p.expression === n) {
    return ts.isCallExpression(p.parent) && /dispose/i.test(p.argumentExpression.getText()) ? "close" : "use";
  }
  if (ts.isCallExpression(p) || ts.isNewExpression(p)) return p.expression === n ? "use" : "escape";
  if (ts.isBinaryExpression(p) && p.right === n && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) return "escape";
  if (ts.isReturnStatement(p) || ts.isArrowFunction(p) || ts.isYieldExpression(p)) return "escape";
  if (ts.isForOfStatement(p) && p.expression === n) return "escape";
  if (ts.isBinaryExpression(p) || ts.isPrefixUnaryExpression(p) || ts.isTypeOfExpression(p) || ts.isIfStatement(p) || ts.isConditionalExpression(p)) {
    return ts.isConditionalExpression(p) && p.condition !== n ? "escape" : "use";
  }
  if (ts.isAwaitExpression(p) || ts.isExpressionStatement(p)) return "use";
  // in an object or array literal, a spread, a shorthand property, a variable initialiser, …: handed on
  return "escape";
}

/** How code uses `this.<field>`: closes it (a closing call on it), hands it on (returned, passed, stored), or only uses it. */
function fieldUse(access: ts.PropertyAccessExpression): Use {
  let n: ts.Node = access;
  while (ts.isParenthesizedExpression(n.parent) || ts.isNonNullExpression(n.parent) || ts.isAsExpression(n.parent)) n = n.parent;
  const p = n.parent;
  if ((ts.isPropertyAccessExpression(p) && p.expression === n) || (ts.isElementAccessExpression(p) && p.expression === n)) {
    const m = ts.isPropertyAccessExpression(p) ? p.name.text : p.argumentExpression.getText();
    if (ts.isCallExpression(p.parent) && p.parent.expression === p && (CLOSING_CALLS.includes(m) || /dispose/i.test(m))) return "close";
    if (m === "pipe" || m === "pipeTo" || m === "pipeThrough") return "escape";
    return "use";
  }
  if (
    (ts.isCallExpression(p) && p.expression === n) ||
    ts.isAwaitExpression(p) ||
    ts.isExpressionStatement(p) ||
    ts.isPrefixUnaryExpression(p) ||
    ts.isTypeOfExpression(p)
  )
    return "use";
  if (ts.isIfStatement(p) || (ts.isConditionalExpression(p) && p.condition === n)) return "use";
  if (ts.isBinaryExpression(p) && p.left === n && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) return "use"; // written again
  if (
    ts.isBinaryExpression(p) &&
    p.operatorToken.kind !== ts.SyntaxKind.EqualsToken &&
    p.operatorToken.kind !== ts.SyntaxKind.QuestionQuestionToken &&
    p.operatorToken.kind !== ts.SyntaxKind.BarBarToken
  )
    return "use";
  return "escape";
}

/** The `try` whose `finally` block holds `n` (the innermost between it and `stop`), if any. */
function finallyOf(n: ts.Node, stop: ts.Node): ts.TryStatement | undefined {
  for (let cur: ts.Node = n; cur !== stop && cur.parent; cur = cur.parent) {
    if (ts.isTryStatement(cur.parent) && cur.parent.finallyBlock === cur) return cur.parent;
  }
  return undefined;
}

/** True when the statement holding `n` runs whenever the declaring block runs to it (no if, loop, catch, …). */
function unconditional(n: ts.Node, block: ts.Node): boolean {
  for (let cur: ts.Node = n; cur !== block; cur = cur.parent) {
    const p = cur.parent;
    if (!p) return false;
    if (ts.isFunctionLike(p)) return false;
    if (
      ts.isIfStatement(p) ||
      ts.isConditionalExpression(p) ||
      ts.isIterationStatement(p, false) ||
      ts.isCatchClause(p) ||
      ts.isSwitchStatement(p) ||
      ts.isCaseClause(p)
    )
      return false;
    if (
      ts.isBinaryExpression(p) &&
      [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken].includes(p.operatorToken.kind) &&
      p.right === cur
    )
      return false;
    if ((ts.isPropertyAccessExpression(p) || ts.isCallExpression(p)) && p.questionDotToken) return false;
  }
  return true;
}

/**
 * Something between `from` and `to` (same function) that can leave early: an await, return,
 * throw, break, yield. An await of the resource's own opening call (`await client.connect()`
 * right after `new Client()`) is part of opening it: when it fails there is nothing open to close.
 */
function exitBetween(fn: ts.Node, from: number, to: number, resource?: string): ts.Node | undefined {
  return firstInFunctionBetween(
    fn,
    from,
    to,
    (n) =>
      (ts.isAwaitExpression(n) && !opensItself(n, resource)) ||
      ts.isReturnStatement(n) ||
      ts.isThrowStatement(n) ||
      ts.isYieldExpression(n) ||
      ts.isBreakOrContinueStatement(n) ||
      (ts.isForOfStatement(n) && n.awaitModifier !== undefined),
  );
}

/** `await x.connect()` (or open, start, …) on the resource `x` itself. */
function opensItself(aw: ts.AwaitExpression, resource: string | undefined): boolean {
  if (resource === undefined) return false;
  const e = unwrap(aw.expression);
  if (!ts.isCallExpression(e)) return false;
  const callee = unwrap(e.expression);
  return ts.isPropertyAccessExpression(callee) && unwrap(callee.expression).getText() === resource && OPENERS.test(callee.name.text);
}

export const unclosedResource: Rule = {
  meta: {
    id: "unclosed-resource",
    description: "a resource opened in a function and not closed on every path, nor returned or stored",
    certainty: "potential",
    defaultSeverity: "warning",
    scope: "file",
    optionsSchema: {
      type: "object",
      properties: {
        ignoreTypes: { type: "array", items: { type: "string" }, description: "type names that are not resources to close" },
        openers: { type: "array", items: { type: "string" }, description: "function names that open a resource (added to open…, connect…, create…, …)" },
        disposableOnly: { type: "boolean", description: "also report types that are only disposable (Symbol.asyncDispose), with no close method" },
      },
      additionalProperties: false,
    },
  },
  checkFile(ctx) {
    const { checker, sourceFile } = ctx;
    const ignoreOpt = ctx.options.ignoreTypes;
    const ignore = new Set(Array.isArray(ignoreOpt) ? ignoreOpt.filter((x): x is string => typeof x === "string") : []);
    const openersOpt = ctx.options.openers;
    const openers = Array.isArray(openersOpt) ? openersOpt.filter((x): x is string => typeof x === "string") : [];
    const visit = (n: ts.Node): void => {
      if (ts.isVariableStatement(n)) checkStatement(n);
      else if (ts.isCallExpression(n)) checkChained(n);
      else if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken) checkField(n);
      ts.forEachChild(n, visit);
    };
    const resourceMethods = (e: ts.Expression) => closers(checker, checker.getTypeAtLocation(e), ignore, ctx.options.disposableOnly === true);
    // `await ds.createQueryRunner().query(…)`: opened for one promise-returning call and dropped,
    // so nothing can close it (the call's result is not the resource itself)
    const checkChained = (call: ts.CallExpression): void => {
      const callee = unwrap(call.expression);
      if (!ts.isPropertyAccessExpression(callee)) return;
      const opened = unwrap(callee.expression);
      const m = callee.name.text;
      if (CLOSING_CALLS.includes(m) || m === "pipe" || m === "pipeTo" || m === "pipeThrough" || !opens(opened, openers)) return;
      const resultType = checker.getTypeAtLocation(call);
      if (!isThenable(checker, resultType)) return;
      const methods = resourceMethods(opened);
      if (!methods) return;
      const resourceType = checker.getNonNullableType(checker.getTypeAtLocation(opened));
      const awaited = checker.getAwaitedType(resultType);
      if (awaited && (awaited === resourceType || checker.getNonNullableType(awaited) === resourceType)) return; // a fluent open hands it back
      ctx.report({
        node: opened,
        summary: `\`${callText(opened)}\` is opened for one call (\`.${m}(…)\`) and dropped: nothing holds it, so it is never closed (${methods.join("/")}) and stays open until the process exits`,
        fix: `keep it in a local and close it when done: \`const x = ${callText(opened)}; try { await x.${m}(…); } finally { await x.${methods[0]}(); }\` (or \`await using\`)`,
        data: { closers: methods },
      });
    };
    // `this.runner = ds.createQueryRunner()` in a class none of whose code ever closes or hands on
    // `this.runner`: the resource lives, open, as long as the object, and a private field
    // cannot be closed from outside
    const checkField = (assign: ts.BinaryExpression): void => {
      const left = unwrap(assign.left);
      if (!ts.isPropertyAccessExpression(left) || left.expression.kind !== ts.SyntaxKind.ThisKeyword) return;
      const opened = openedIn(unwrap(assign.right));
      if (!opened) return;
      const cls = ts.findAncestor(assign, ts.isClassLike);
      if (!cls) return;
      const name = left.name.text;
      const member = cls.members.find((mb) => mb.name !== undefined && mb.name.getText() === left.name.getText());
      const hidden =
        ts.isPrivateIdentifier(left.name) ||
        (member !== undefined && (ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0);
      if (!hidden) return;
      // syntax first: a close or a hand-off of `this.<name>` anywhere in the class
      let kept = false;
      const look = (x: ts.Node): void => {
        if (kept) return;
        if (ts.isPropertyAccessExpression(x) && x !== left && x.expression.kind === ts.SyntaxKind.ThisKeyword && x.name.text === name) {
          const use = fieldUse(x);
          if (use !== "use") kept = true;
        }
        ts.forEachChild(x, look);
      };
      look(cls);
      if (kept) return;
      const methods = resourceMethods(opened);
      if (!methods) return;
      const owner = cls.name ? `\`${cls.name.text}\`` : "the class";
      ctx.report({
        node: opened,
        summary: `\`this.${name}\` holds \`${callText(opened)}\`, and no code of ${owner} ever closes it (${methods.join("/")}) or hands it on: it stays open as long as the object, and a private field cannot be closed from outside`,
        fix: `give ${owner} a \`close()\` (or \`[Symbol.asyncDispose]\`) that calls \`this.${name}.${methods[0]}()\`, and call it when the work is done; or open it where it is used and close it in a \`finally\``,
        data: { closers: methods },
      });
    };
    const openedIn = (e: ts.Expression): ts.CallExpression | ts.NewExpression | undefined => {
      let x = e;
      if (ts.isAwaitExpression(x)) x = unwrap(x.expression);
      // `given ?? open()`: when it opens, it is this object's to close
      if (ts.isBinaryExpression(x) && (x.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || x.operatorToken.kind === ts.SyntaxKind.BarBarToken))
        return openedIn(unwrap(x.right));
      // a call that says it opens (`createQueryRunner()`); `new X()` in a field is as often an
      // in-memory helper (a semaphore, an emitter) as a connection
      return ts.isCallExpression(x) && opens(x, openers) ? x : undefined;
    };
    const checkStatement = (stmt: ts.VariableStatement): void => {
      if (stmt.declarationList.flags & ts.NodeFlags.Using) return;
      const block = stmt.parent;
      const fn = ts.findAncestor(stmt, ts.isFunctionLike);
      if (!fn || !ts.isBlock(block)) return;
      for (const d of stmt.declarationList.declarations) {
        const id = d.name;
        if (!ts.isIdentifier(id) || !d.initializer) continue;
        let init = unwrap(d.initializer);
        if (ts.isAwaitExpression(init)) init = unwrap(init.expression);
        if (!opens(init, openers)) continue;
        // syntax first: a local that is handed on (returned, passed, stored) needs no type query
        const named: ts.Identifier[] = [];
        const collectNamed = (x: ts.Node): void => {
          if (ts.isIdentifier(x) && x !== id && x.text === id.text) named.push(x);
          ts.forEachChild(x, collectNamed);
        };
        collectNamed(fn);
        const propName = (r: ts.Identifier) =>
          (ts.isPropertyAccessExpression(r.parent) && r.parent.name === r) || (ts.isPropertyAssignment(r.parent) && r.parent.name === r);
        const pool = checkoutPool(init, checker);
        const escapes = (r: ts.Identifier) =>
          ts.isShorthandPropertyAssignment(r.parent) ||
          (classifyUse(r, CLOSERS) === "escape" && !givenBackTo(r, pool)) ||
          ts.findAncestor(r, ts.isFunctionLike) !== fn;
        if (named.some((r) => !propName(r) && escapes(r))) continue;
        // what a pool hands out is its to take back, whatever the resource's own type
        const methods = closers(checker, checker.getTypeAtLocation(id), ignore, ctx.options.disposableOnly === true) ?? (pool ? ["release"] : undefined);
        if (!methods) continue;
        const sym = checker.getSymbolAtLocation(id);
        if (!sym) continue;
        const refs = named.filter((x) => !propName(x) && (ts.isShorthandPropertyAssignment(x.parent) || checker.getSymbolAtLocation(x) === sym));
        // `return await client.connect()` hands back the resource itself when the method returns it
        const resourceType = checker.getTypeAtLocation(id);
        const returnsItself = refs.some((r) => {
          const ret = ts.findAncestor(r, (a) => ts.isReturnStatement(a) || ts.isFunctionLike(a));
          if (!ret || !ts.isReturnStatement(ret) || !ret.expression) return false;
          const t = checker.getTypeAtLocation(ret.expression);
          const awaited = checker.getAwaitedType(t) ?? t;
          return awaited === resourceType || t === resourceType;
        });
        if (returnsItself) continue;
        const uses = refs.map((r) => ({
          r,
          use: givenBackTo(r, pool) ? "close" : ts.isShorthandPropertyAssignment(r.parent) ? "escape" : classifyUse(r, methods),
        }));
        // handed on, or touched from a closure that may close it later: not this function's to close
        if (uses.some((u) => u.use === "escape" || ts.findAncestor(u.r, ts.isFunctionLike) !== fn)) continue;
        const closes = uses.filter((u) => u.use === "close").map((u) => u.r);
        const what = `\`${id.text}\` (from \`${callText(init)}\`)`;
        const fix = `declare it with \`await using ${id.text} = …\` (or \`using\`) so it is closed on every path, or close it in a \`finally\``;
        if (closes.length === 0) {
          ctx.report({
            node: d.name,
            summary: `${what} is opened here and never closed, returned or stored: it stays open until the process exits`,
            fix,
            data: { closers: methods },
          });
          continue;
        }
        // a close in a finally covers what its try runs, not an await between the open and the try
        const guardingTry = closes.map((c) => finallyOf(c, fn)).find((t) => t !== undefined);
        if (guardingTry && !exitBetween(fn, d.end, guardingTry.getStart(), id.text)) continue;
        const safe = closes.some((c) => unconditional(c, block) && !exitBetween(fn, d.end, c.getStart(), id.text));
        if (safe) continue;
        const first = closes[0]!;
        const exit = exitBetween(fn, d.end, guardingTry ? guardingTry.getStart() : first.getStart(), id.text);
        const why = exit
          ? `an ${ts.isAwaitExpression(exit) ? "await that can throw" : "early exit"} at line ${sourceFile.getLineAndCharacterOfPosition(exit.getStart()).line + 1} skips the \`${first.parent.getText().split("(")[0]}\` call`
          : "the close runs only on some paths";
        ctx.report({
          node: d.name,
          summary: `${what} is not closed on every path: ${why}, and the resource stays open`,
          fix,
          data: { closers: methods },
        });
      }
    };
    visit(sourceFile);
  },
};
