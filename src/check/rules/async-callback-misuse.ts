/**
 * async-callback-misuse: a promise-returning function passed where the callee ignores what the
 * callback returns (`forEach`, event listeners, timers, a Promise executor). The calls are not
 * awaited, the caller goes on, and a rejection reaches no handler.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { calleeName, isAsyncFunction, isThenable, unwrap } from "../analysis/ts-util.js";
import { callReturnsPromise } from "../analysis/promise-use.js";

const ITERATION = new Set(["forEach"]);
const PREDICATES = new Set(["filter", "some", "every", "find", "findIndex", "findLast", "findLastIndex"]);
const LISTENERS = new Set(["on", "once", "addListener", "prependListener", "prependOnceListener", "addEventListener"]);
const TIMERS = new Set(["setTimeout", "setInterval", "setImmediate", "queueMicrotask", "nextTick"]);

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
    let sym = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(fn) ? fn.name : fn);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
    return sym !== undefined && (sym.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Method)) !== 0;
  }
  return false;
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
    if (!returned.some((r) => callReturnsPromise(checker, r))) return false;
    // `() => p.catch(log)` hands back a promise that cannot reject: nothing is lost
    if (ts.isArrowFunction(fn) && !ts.isBlock(fn.body)) {
      const body = unwrap(fn.body);
      if (ts.isCallExpression(body) && ts.isPropertyAccessExpression(body.expression)) {
        const m = body.expression.name.text;
        if ((m === "catch" && body.arguments.length > 0) || (m === "then" && body.arguments.length > 1)) return false;
      }
    }
    return true;
  }
  const sigs = checker.getTypeAtLocation(fn).getCallSignatures();
  return sigs.length > 0 && sigs.every((s) => isThenable(checker, checker.getReturnTypeOfSignature(s)));
}

/** True when every call signature of the parameter's type returns exactly `void`. */
function expectsVoid(checker: ts.TypeChecker, arg: ts.Expression): boolean {
  const ctype = checker.getContextualType(arg);
  if (!ctype) return false;
  const t = checker.getNonNullableType(ctype);
  const parts = t.isUnion() ? t.types : [t];
  const sigs = parts.flatMap((p) => p.getCallSignatures());
  if (sigs.length === 0) return false;
  return sigs.every((s) => (checker.getReturnTypeOfSignature(s).flags & ts.TypeFlags.Void) !== 0 && !checker.getReturnTypeOfSignature(s).isUnion());
}

/** An async body that is one try/catch cannot reject: a listener or timer loses nothing. */
function cannotReject(fn: ts.Expression): boolean {
  if (!(ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) || !ts.isBlock(fn.body)) return false;
  const stmts = fn.body.statements;
  const only = stmts[0];
  if (stmts.length !== 1 || !only || !ts.isTryStatement(only) || !only.catchClause) return false;
  let rethrows = false;
  const look = (n: ts.Node): void => {
    if (ts.isThrowStatement(n)) rethrows = true;
    if (!ts.isFunctionLike(n)) ts.forEachChild(n, look);
  };
  look(only.catchClause.block);
  return !rethrows;
}

export const asyncCallbackMisuse: Rule = {
  meta: {
    id: "async-callback-misuse",
    description: "an async function passed where the callee ignores the promise it returns (forEach, listeners, timers, executors)",
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
        n.arguments.forEach((arg, i) => {
          const fn = unwrap(arg);
          if (!mayReturnPromise(checker, fn)) return;
          if (!returnsPromise(checker, fn)) return;
          const callee = ts.isCallExpression(n) ? unwrap(n.expression) : undefined;
          const onArray =
            callee !== undefined && ts.isPropertyAccessExpression(callee) && isArrayLike(checker, checker.getTypeAtLocation(callee.expression));
          if (onArray && i === 0 && name !== undefined && PREDICATES.has(name)) {
            ctx.report({
              node: arg,
              summary: `an async predicate passed to \`${name}\` returns a promise, which is always truthy: \`${name}\` never sees the answer`,
              fix: `compute the answers first (\`const ok = await Promise.all(xs.map(async …))\`), then \`${name}\` on them synchronously`,
            });
            return;
          }
          if (!expectsVoid(checker, arg)) return;
          const iteration = onArray && name !== undefined && ITERATION.has(name);
          if (!iteration && !isExecutor && cannotReject(fn)) return;
          const what = name ? `\`${isExecutor ? "new Promise" : name}\`` : "this call";
          let fix = "wrap the body in try/catch, or hand the work to a TaskTracker (`tracker.spawn`) so its failure is reported";
          let summary = `the async callback passed to ${what} returns a promise that ${what} ignores: nothing waits for it and its rejection reaches no handler`;
          if (iteration) {
            summary = `the async callback passed to \`${name}\` returns a promise that \`${name}\` ignores: the calls run at once, the caller goes on before they finish, and their failures reach no handler`;
            fix = "use `for (const x of xs) await …` to run them in order, or `await Promise.all(xs.map(async (x) => …))` to run them together";
          } else if (isExecutor) {
            summary = "an async Promise executor: a throw after its first await rejects nothing, and the promise may never settle";
            fix = "keep the executor synchronous; do the async work in an async function and `await` it there";
          } else if (name && LISTENERS.has(name)) {
            fix = "catch inside the listener (try/catch around the body) or hand the work to a TaskTracker (`tracker.spawn`) so its failure is reported";
          } else if (name && TIMERS.has(name)) {
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

function isArrayLike(checker: ts.TypeChecker, t: ts.Type): boolean {
  const nn = checker.getNonNullableType(t);
  if (checker.isArrayType(nn) || checker.isTupleType(nn)) return true;
  const sym = nn.getSymbol();
  return sym !== undefined && ["ReadonlyArray", "Array", "Set", "Map", "ReadonlySet", "ReadonlyMap"].includes(sym.getName());
}
