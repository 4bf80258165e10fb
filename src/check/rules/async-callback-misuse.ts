/**
 * async-callback-misuse: a promise-returning function passed where the callee ignores what the
 * callback returns (`forEach`, event listeners, timers, a Promise executor). The calls are not
 * awaited, the caller goes on, and a rejection reaches no handler.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { calleeName, isAsyncFunction, isThenable, shortText, unwrap } from "../analysis/ts-util.js";
import { callReturnsPromise } from "../analysis/promise-use.js";
import { functionCannotReject } from "../analysis/rejects.js";

/** Iteration helpers that call the callback for each item and drop what it returns (Array's, lodash's, async's, jQuery's). */
const ITERATION = new Set(["forEach", "each", "forOwn", "forOwnRight", "forIn", "forInRight", "forEachRight", "eachRight"]);
const PREDICATES = new Set(["filter", "some", "every", "find", "findIndex", "findLast", "findLastIndex"]);
const LISTENERS = new Set(["on", "once", "addListener", "prependListener", "prependOnceListener", "addEventListener"]);
/** Calls that take a listener back: they never call it, so nothing of its result is dropped there (the registration is the finding). */
const REMOVERS = new Set(["off", "removeListener", "removeEventListener"]);
const TIMERS = new Set(["setTimeout", "setInterval", "setImmediate", "queueMicrotask", "nextTick"]);
/** Promise methods whose callbacks are awaited: `p.finally(() => cleanup())` waits for cleanup. */
const CHAIN = new Set(["then", "catch", "finally"]);

/**
 * A cheap first look, so the type checker is asked only about likely candidates: async function
 * literals, arrows whose result is a call, and references to functions or methods.
 */
function mayReturnPromise(checker: ts.TypeChecker, fn: ts.Expression): boolean {
  if (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) {
    if (isAsyncFunction(fn)) return true;
    if (ts.isBlock(fn.body)) {
      // a block body: only when a return statement hands back a call's result
      let found = false;
      const look = (n: ts.Node): void => {
        if (found || ts.isFunctionLike(n)) return;
        if (ts.isReturnStatement(n) && n.expression && (ts.isCallExpression(unwrap(n.expression)) || ts.isNewExpression(unwrap(n.expression)))) found = true;
        ts.forEachChild(n, look);
      };
      fn.body.statements.forEach(look);
      return found;
    }
    const body = unwrap(fn.body);
    return ts.isCallExpression(body) || ts.isNewExpression(body);
  }
  if (ts.isIdentifier(fn) || ts.isPropertyAccessExpression(fn)) {
    const fnDecl = referencedFunction(checker, fn);
    return fnDecl !== undefined;
  }
  return false;
}

/**
 * The function a reference names: a function or method declaration, or a `const` / class field
 * whose initialiser is a function literal (`const handle = async () => …`, `onData = async (d) => …`).
 */
function referencedFunction(checker: ts.TypeChecker, ref: ts.Identifier | ts.PropertyAccessExpression): ts.Node | undefined {
  let sym = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(ref) ? ref.name : ref);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  if (!sym) return undefined;
  if (sym.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Method)) return sym.valueDeclaration ?? sym.declarations?.[0];
  const decl = sym.valueDeclaration;
  if (!decl || !(sym.flags & (ts.SymbolFlags.Variable | ts.SymbolFlags.Property))) return undefined;
  if (ts.isVariableDeclaration(decl) && !(ts.getCombinedNodeFlags(decl) & ts.NodeFlags.Const)) return undefined;
  if (!ts.isVariableDeclaration(decl) && !ts.isPropertyDeclaration(decl)) return undefined;
  const init = decl.initializer && unwrap(decl.initializer);
  return init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) ? init : undefined;
}

/** True when `fn` (a function expression or a reference) returns a promise. */
function returnsPromise(checker: ts.TypeChecker, fn: ts.Expression): boolean {
  if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && isAsyncFunction(fn)) return true;
  if (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) {
    // a non-async literal returns a promise only through a returned call: ask about those calls
    // (cheaper than inferring the literal's whole return type)
    const returned: (ts.CallExpression | ts.NewExpression)[] = [];
    if (ts.isBlock(fn.body)) {
      const look = (n: ts.Node): void => {
        if (ts.isFunctionLike(n)) return;
        if (ts.isReturnStatement(n) && n.expression) {
          const r = unwrap(n.expression);
          if (ts.isCallExpression(r) || ts.isNewExpression(r)) returned.push(r);
        }
        ts.forEachChild(n, look);
      };
      fn.body.statements.forEach(look);
    } else {
      const r = unwrap(fn.body);
      if (ts.isCallExpression(r) || ts.isNewExpression(r)) returned.push(r);
    }
    const promises = returned.filter((r) => callReturnsPromise(checker, r));
    // `() => p.catch(log)` (or a block returning only such chains) hands back a promise that
    // cannot reject: nothing is lost
    return promises.length > 0 && !promises.every(handledChain);
  }
  const sigs = checker.getTypeAtLocation(fn).getCallSignatures();
  return sigs.length > 0 && sigs.every((s) => isThenable(checker, checker.getReturnTypeOfSignature(s)));
}

/**
 * What the callee's parameter says about the callback's result: `void` when every signature
 * returns exactly `void`; `loose` when they return `unknown` or `any` (which a callee may await,
 * so it counts only for iteration helpers and listeners); undefined when it takes the result.
 */
function resultType(checker: ts.TypeChecker, arg: ts.Expression): "void" | "loose" | undefined {
  const ctype = checker.getContextualType(arg);
  if (!ctype) return undefined;
  const t = checker.getNonNullableType(ctype);
  const parts = t.isUnion() ? t.types : [t];
  const sigs = parts.flatMap((p) => p.getCallSignatures());
  if (sigs.length === 0) return undefined;
  const rets = sigs.map((s) => checker.getReturnTypeOfSignature(s));
  if (rets.every((r) => (r.flags & ts.TypeFlags.Void) !== 0 && !r.isUnion())) return "void";
  if (rets.every((r) => (r.flags & (ts.TypeFlags.Void | ts.TypeFlags.Unknown | ts.TypeFlags.Any)) !== 0 && !r.isUnion())) return "loose";
  return undefined;
}

/** True when the function literal contains an `await` of its own (not in a nested function). */
function hasOwnAwait(fn: ts.Node): boolean {
  let found = false;
  const look = (n: ts.Node): void => {
    if (found) return;
    if (ts.isAwaitExpression(n) || (ts.isForOfStatement(n) && n.awaitModifier)) found = true;
    else if (!ts.isFunctionLike(n)) ts.forEachChild(n, look);
  };
  ts.forEachChild(fn, look);
  return found;
}

export const asyncCallbackMisuse: Rule = {
  meta: {
    id: "async-callback-misuse",
    description: "a promise-returning callback passed where the callee ignores its result (forEach and other iteration helpers, listeners, timers, executors)",
    certainty: "proven",
    defaultSeverity: "error",
    scope: "file",
  },
  checkFile(ctx) {
    const { checker, sourceFile } = ctx;
    const visit = (n: ts.Node): void => {
      if ((ts.isCallExpression(n) || ts.isNewExpression(n)) && n.arguments) {
        const name = calleeName(n);
        const isExecutor = ts.isNewExpression(n) && name === "Promise";
        if (name !== undefined && REMOVERS.has(name)) {
          ts.forEachChild(n, visit);
          return;
        }
        n.arguments.forEach((arg, i) => {
          const fn = unbound(unwrap(arg));
          if (!mayReturnPromise(checker, fn)) return;
          if (!returnsPromise(checker, fn)) return;
          const callee = ts.isCallExpression(n) ? unwrap(n.expression) : undefined;
          const onArray = callee !== undefined && ts.isPropertyAccessExpression(callee) && isArrayLike(checker, checker.getTypeAtLocation(callee.expression));
          if (onArray && i === 0 && name !== undefined && PREDICATES.has(name)) {
            ctx.report({
              node: arg,
              summary: `an async predicate passed to \`${name}\` returns a promise, which is always truthy: \`${name}\` never sees the answer`,
              fix: `compute the answers first (\`const ok = await Promise.all(xs.map(async …))\`), then \`${name}\` on them synchronously`,
            });
            return;
          }
          // a promise method awaits its callbacks' promises: `p.finally(() => cleanup())` waits for cleanup
          if (name !== undefined && CHAIN.has(name)) return;
          const result = resultType(checker, arg);
          if (result === undefined) return;
          const iteration = name !== undefined && ITERATION.has(name) && (onArray || result === "loose" || isHelperCall(n));
          const listener = name !== undefined && LISTENERS.has(name);
          const timer = name !== undefined && TIMERS.has(name);
          // `unknown` / `any` may be awaited by the callee: believed only of iteration helpers, listeners and timers
          if (result === "loose" && !iteration && !listener && !timer) return;
          const target =
            ts.isArrowFunction(fn) || ts.isFunctionExpression(fn) ? fn : referencedFunction(checker, fn as ts.Identifier | ts.PropertyAccessExpression);
          if (!iteration && !isExecutor && target !== undefined && functionCannotReject(checker, target)) return;
          const isAsync = target !== undefined && isAsyncFunction(target);
          const cb =
            ts.isIdentifier(fn) || ts.isPropertyAccessExpression(fn)
              ? `\`${shortText(fn, 40)}\`${isAsync ? ", an async function," : ", which returns a promise,"}`
              : isAsync
                ? "the async callback"
                : "the callback (it returns a promise)";
          const what = name ? `\`${isExecutor ? "new Promise" : name}\`` : "this call";
          let fix = "wrap the body in try/catch, or hand the work to a TaskTracker (`tracker.spawn`) so its failure is reported";
          let summary = `${cb} passed to ${what} returns a promise that ${what} ignores: nothing waits for it and its rejection reaches no handler`;
          if (iteration) {
            summary = `${cb} passed to \`${name}\` returns a promise that \`${name}\` ignores: the calls run at once, the caller goes on before they finish, and their failures reach no handler`;
            fix = "use `for (const x of xs) await …` to run them in order, or `await Promise.all(xs.map(async (x) => …))` to run them together";
          } else if (isExecutor) {
            summary =
              target !== undefined && hasOwnAwait(target)
                ? "an async Promise executor: a throw after its first await rejects nothing, and the promise may never settle"
                : "an async Promise executor: a throw in it rejects the executor's own promise, which nothing observes, instead of the promise being built";
            fix = "keep the executor synchronous; do the async work in an async function and `await` it there";
          } else if (listener) {
            fix = "catch inside the listener (try/catch around the body) or hand the work to a TaskTracker (`tracker.spawn`) so its failure is reported";
          } else if (timer) {
            fix = "catch inside the callback, or run the work as a tracked task (`tracker.spawn`) so shutdown waits for it and its failure is reported";
          }
          ctx.report({ node: arg, summary, fix });
        });
      }
      ts.forEachChild(n, visit);
    };
    visit(sourceFile);
  },
};

/** `p.catch(h)` or `p.then(ok, fail)`: a promise whose rejection is handled. */
function handledChain(call: ts.CallExpression | ts.NewExpression): boolean {
  if (!ts.isCallExpression(call) || !ts.isPropertyAccessExpression(call.expression)) return false;
  const m = call.expression.name.text;
  return (m === "catch" && call.arguments.length > 0) || (m === "then" && call.arguments.length > 1);
}

/** `this.onData.bind(this)` → `this.onData`: a bound method returns what the method returns. */
function unbound(e: ts.Expression): ts.Expression {
  if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && e.expression.name.text === "bind") {
    const target = unwrap(e.expression.expression);
    if (ts.isIdentifier(target) || ts.isPropertyAccessExpression(target)) return target;
  }
  return e;
}

/** `_.forEach(xs, fn)`, `each(xs, fn)`, `$.each(xs, fn)`: a helper that takes the collection as an argument. */
function isHelperCall(call: ts.CallExpression | ts.NewExpression): boolean {
  return ts.isCallExpression(call) && (call.arguments?.length ?? 0) >= 2;
}

function isArrayLike(checker: ts.TypeChecker, t: ts.Type): boolean {
  const nn = checker.getNonNullableType(t);
  if (checker.isArrayType(nn) || checker.isTupleType(nn)) return true;
  const sym = nn.getSymbol();
  return sym !== undefined && ["ReadonlyArray", "Array", "Set", "Map", "ReadonlySet", "ReadonlyMap"].includes(sym.getName());
}
