/**
 * "Can this promise reject?": the question unobserved-rejection asks of `void p` and of a
 * promise started before an await, and async-callback-misuse of a callback whose promise is
 * dropped. The answer is "cannot" only when it is shown: a chain ending in a handler, an async
 * body made of statements that cannot throw (or of try/catch blocks that do not rethrow), a
 * lock's scoped call whose callback cannot reject. Anything unknown can reject.
 *
 * The program is taken to be type-correct: reading a typed property or doing arithmetic does not
 * throw; a call does, unless it is one the platform guarantees (console, timers, `Date.now`, an
 * array's `push`) or one this module can see into.
 */
import ts from "typescript";
import { classifyCall } from "./classify-call.js";
import { callReturnsPromise } from "./promise-use.js";
import { isAsyncFunction, isThenable, unwrap } from "./ts-util.js";

/** Platform calls that cannot throw on the arguments a type-correct program gives them. */
const SAFE_CALLS = /^(Date\.now|performance\.now|console\.\w+|setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|clearImmediate|queueMicrotask)$/;

/** Array methods that only add items: they cannot throw on a typed array. */
const ARRAY_ADDERS = new Set(["push", "unshift"]);

/**
 * Lock and limiter packages whose scoped call (`mutex.runExclusive(fn)`, `limit(fn)`) rejects
 * only with what `fn` rejects with. (async-mutex also rejects waiters on `cancel()` and under
 * `withTimeout`: a lock named in either is left out.) Distributed locks (redlock), Web Locks
 * (an abort signal) and pools (a connection can fail) can reject on their own.
 */
const CALLBACK_ONLY = new Set(["async-mutex", "p-limit", "asyncdoctor"]);

type Fn = ts.ArrowFunction | ts.FunctionExpression | ts.FunctionDeclaration | ts.MethodDeclaration;

function isFn(n: ts.Node | undefined): n is Fn {
  return n !== undefined && (ts.isArrowFunction(n) || ts.isFunctionExpression(n) || ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n));
}

/** The function an expression names (a literal, a declaration, a `const` arrow, a method), if in sight. */
function functionOf(checker: ts.TypeChecker, e: ts.Expression): Fn | undefined {
  const x = unwrap(e);
  if (ts.isArrowFunction(x) || ts.isFunctionExpression(x)) return x;
  let sym = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(x) ? x.name : x);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  const decl = sym?.valueDeclaration;
  if (isFn(decl)) return decl;
  if (decl && ts.isVariableDeclaration(decl) && decl.initializer) {
    const init = unwrap(decl.initializer);
    if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return init;
  }
  return undefined;
}

/** True when `id` is the first parameter (the resolver) of a `new Promise(executor)`'s executor. */
function isResolver(checker: ts.TypeChecker, id: ts.Expression): boolean {
  if (!ts.isIdentifier(id)) return false;
  const decl = checker.getSymbolAtLocation(id)?.valueDeclaration;
  if (!decl || !ts.isParameter(decl)) return false;
  const fn = decl.parent;
  return fn.parameters[0] === decl && ts.isNewExpression(fn.parent) && isPromiseConstructor(fn.parent) && fn.parent.arguments?.[0] === fn;
}

function isPromiseConstructor(n: ts.NewExpression): boolean {
  const c = unwrap(n.expression);
  return ts.isIdentifier(c) && c.text === "Promise";
}

/** A throw of its own in `block` (nested functions aside). */
function throwsIn(block: ts.Node): boolean {
  let thrown = false;
  const look = (n: ts.Node): void => {
    if (ts.isThrowStatement(n)) thrown = true;
    if (!thrown && !ts.isFunctionLike(n)) ts.forEachChild(n, look);
  };
  look(block);
  return thrown;
}

/** A try/catch whose catch and finally do not rethrow: what its body throws stops there. */
function guarded(stmt: ts.Statement): boolean {
  if (!ts.isTryStatement(stmt) || !stmt.catchClause) return false;
  return !throwsIn(stmt.catchClause.block) && (!stmt.finallyBlock || !throwsIn(stmt.finallyBlock));
}

class RejectAnalysis {
  // a function met again while its own answer is being worked out (recursion) is taken to reject
  private readonly active = new Set<ts.Node>();

  constructor(private readonly checker: ts.TypeChecker) {}

  /** True when evaluating `n` cannot throw synchronously (and awaits only what cannot reject). */
  cannotThrow(n: ts.Node): boolean {
    if (ts.isFunctionLike(n)) return true; // making a function runs nothing
    if (ts.isThrowStatement(n) || ts.isYieldExpression(n) || ts.isTaggedTemplateExpression(n)) return false;
    if (ts.isForOfStatement(n) || ts.isForInStatement(n)) return false;
    if (ts.isAwaitExpression(n)) return this.promiseCannotReject(n.expression);
    if (ts.isReturnStatement(n) && n.expression) return this.valueCannotReject(n.expression);
    if (ts.isVoidExpression(n)) {
      const e = unwrap(n.expression);
      // a promise-returning call reports its failure by rejecting, which `void` lets go: only
      // what is evaluated to make the call can throw here
      if (ts.isCallExpression(e) && callReturnsPromise(this.checker, e)) return this.cannotThrow(e.expression) && e.arguments.every((a) => this.cannotThrow(a));
      return this.cannotThrow(e);
    }
    if (ts.isNewExpression(n)) {
      // `new Promise((resolve) => setTimeout(resolve, ms))`: an executor that never rejects
      const ex = n.arguments?.[0] && unwrap(n.arguments[0]);
      if (!isPromiseConstructor(n) || !ex || !(ts.isArrowFunction(ex) || ts.isFunctionExpression(ex)) || ex.parameters.length > 1) return false;
      return this.bodyCannotThrow(ex.body);
    }
    if (ts.isCallExpression(n)) {
      if (!this.safeCall(n)) return false;
      return n.arguments.every((a) => this.cannotThrow(a));
    }
    let ok = true;
    n.forEachChild((c) => {
      if (ok && !this.cannotThrow(c)) ok = false;
    });
    return ok;
  }

  private safeCall(call: ts.CallExpression): boolean {
    const callee = unwrap(call.expression);
    if (SAFE_CALLS.test(callee.getText())) return true;
    if (isResolver(this.checker, callee)) return true;
    if (ts.isPropertyAccessExpression(callee) && ARRAY_ADDERS.has(callee.name.text) && this.cannotThrow(callee.expression)) {
      const t = this.checker.getNonNullableType(this.checker.getTypeAtLocation(callee.expression));
      return this.checker.isArrayType(t);
    }
    return false;
  }

  private bodyCannotThrow(body: ts.ConciseBody): boolean {
    if (!ts.isBlock(body)) return this.cannotThrow(body);
    return body.statements.every((st) => guarded(st) || this.cannotThrow(st));
  }

  /** A value returned from an async function: a promise it carries must not reject either. */
  private valueCannotReject(e: ts.Expression): boolean {
    const t = this.checker.getTypeAtLocation(e);
    return isThenable(this.checker, t) ? this.promiseCannotReject(e) : this.cannotThrow(e);
  }

  /** True when calling `fn` gives a promise that cannot reject (and throws nothing). */
  callCannotReject(fn: Fn): boolean {
    if (!fn.body || this.active.has(fn)) return false;
    this.active.add(fn);
    try {
      if (isAsyncFunction(fn)) {
        if (!ts.isBlock(fn.body)) return this.valueCannotReject(fn.body);
        return fn.body.statements.every((st) => guarded(st) || this.cannotThrow(st));
      }
      // a plain function that hands back a promise: `return mutex.runExclusive(…)`
      if (!ts.isBlock(fn.body)) return this.promiseCannotReject(fn.body);
      const stmts = fn.body.statements;
      const last = stmts[stmts.length - 1];
      if (!last || !ts.isReturnStatement(last) || !last.expression) return false;
      return stmts.slice(0, -1).every((st) => this.cannotThrow(st)) && this.promiseCannotReject(last.expression);
    } finally {
      this.active.delete(fn);
    }
  }

  /** True when the promise `e` evaluates to cannot reject (and making it throws nothing). */
  promiseCannotReject(e: ts.Expression): boolean {
    let cur = unwrap(e);
    while (ts.isCallExpression(cur) && ts.isPropertyAccessExpression(cur.expression) && cur.expression.name.text === "finally")
      cur = unwrap(cur.expression.expression);
    if (ts.isNewExpression(cur)) return this.cannotThrow(cur);
    if (!ts.isCallExpression(cur)) return !isThenable(this.checker, this.checker.getTypeAtLocation(cur)) && this.cannotThrow(cur);
    const callee = unwrap(cur.expression);
    if (ts.isPropertyAccessExpression(callee)) {
      const m = callee.name.text;
      if ((m === "catch" && cur.arguments.length >= 1) || (m === "then" && cur.arguments.length >= 2)) return true;
    }
    if (!cur.arguments.every((a) => this.cannotThrow(a))) return false;
    const use = classifyCall(cur, this.checker);
    if (use && use.mode === "scoped" && use.callback && !use.transaction && CALLBACK_ONLY.has(use.library) && !this.mayCancel(use.targets)) {
      const cb = functionOf(this.checker, use.callback);
      return cb !== undefined && this.callCannotReject(cb);
    }
    const fn = functionOf(this.checker, callee);
    return fn !== undefined && this.callCannotReject(fn);
  }

  /** True when a lock may reject its waiters by itself: `cancel()` (p-limit: `clearQueue()`) is called on it, or it was made `withTimeout`. */
  private mayCancel(targets: readonly ts.Expression[]): boolean {
    return targets.some((t) => {
      const text = unwrap(t).getText();
      const file = t.getSourceFile().text;
      if (file.includes(`${text}.cancel(`) || file.includes(`${text}.clearQueue(`)) return true;
      const sym = this.checker.getSymbolAtLocation(ts.isPropertyAccessExpression(unwrap(t)) ? (unwrap(t) as ts.PropertyAccessExpression).name : unwrap(t));
      const decl = sym?.valueDeclaration;
      const init = decl && (ts.isVariableDeclaration(decl) || ts.isPropertyDeclaration(decl)) ? decl.initializer : undefined;
      return init !== undefined && /\bwithTimeout\s*\(/.test(init.getText());
    });
  }
}

/**
 * True when the promise `e` evaluates to cannot reject: a chain that ends in `.catch(h)` or
 * `.then(ok, fail)` (then only `.finally`), a call of a function whose promise cannot reject
 * (see {@link functionCannotReject}), or a scoped call of an in-process lock or limiter
 * (`mutex.runExclusive(fn)`, `limit(fn)`) whose callback cannot reject.
 *
 * @example
 * promiseCannotReject(checker, voidExpr.expression) // `void quiet()` where quiet catches everything
 */
export function promiseCannotReject(checker: ts.TypeChecker, e: ts.Expression): boolean {
  return new RejectAnalysis(checker).promiseCannotReject(e);
}

/**
 * True when calling `fn` gives a promise that cannot reject: an async body whose every
 * statement is a try/catch that does not rethrow or cannot throw (console, timers, `Date.now`,
 * an array's `push`, an await of a promise that cannot reject, `void` on a promise-returning
 * call), or a plain function that returns such a promise.
 *
 * @example
 * functionCannotReject(checker, arrow) // async () => { try { await send(); } catch (e) { log(e); } }
 */
export function functionCannotReject(checker: ts.TypeChecker, fn: ts.Node): boolean {
  return isFn(fn) && new RejectAnalysis(checker).callCannotReject(fn);
}
