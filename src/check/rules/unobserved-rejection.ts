/**
 * unobserved-rejection: a promise whose rejection nothing will see, though the code looks as if
 * it handles it. Two shapes:
 * - `void p` on a promise that can reject: `void` says "I do not want the result", but a
 *   rejection still becomes an unhandled rejection, which ends a Node process by default;
 * - a promise started before an `await` that can throw, and observed only after it:
 *   `const a = loadA(); const b = await loadB(); await a;` — when `loadB()` throws, `a` is
 *   never awaited, and its own failure is an unhandled rejection.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { keptTypes } from "../analysis/promise-use.js";
import { promiseCannotReject } from "../analysis/rejects.js";
import type { KeptType } from "../analysis/promise-use.js";
import { declaredIn, firstInFunctionBetween, isAsyncFunction, isThenable, shortText, unwrap } from "../analysis/ts-util.js";

function isKeptType(checker: ts.TypeChecker, t: ts.Type, kept: readonly KeptType[]): boolean {
  const sym = t.getSymbol() ?? t.aliasSymbol;
  return sym !== undefined && kept.some((k) => k.name === sym.getName() && declaredIn(sym, k.package));
}

/** True when `n` sits in the try block of a try/catch whose catch does not rethrow: a throw there stops there. */
function caughtLocally(n: ts.Node, stop: ts.Node): boolean {
  for (let cur: ts.Node = n; cur !== stop && cur.parent; cur = cur.parent) {
    const p = cur.parent;
    if (ts.isTryStatement(p) && p.tryBlock === cur && p.catchClause) {
      let rethrows = false;
      const look = (x: ts.Node): void => {
        if (ts.isThrowStatement(x)) rethrows = true;
        if (!rethrows && !ts.isFunctionLike(x)) ts.forEachChild(x, look);
      };
      look(p.catchClause.block);
      if (!rethrows) return true;
    }
  }
  return false;
}

/** The first `await` of the function `fn` in [from, to) that can throw out of it, not in a nested function. */
function throwingAwaitBetween(fn: ts.Node, from: number, to: number): ts.Node | undefined {
  return firstInFunctionBetween(
    fn,
    from,
    to,
    (n) => (ts.isAwaitExpression(n) || (ts.isForOfStatement(n) && n.awaitModifier !== undefined)) && !caughtLocally(n, fn),
  );
}

export const unobservedRejection: Rule = {
  meta: {
    id: "unobserved-rejection",
    description: "`void` on a promise that can reject, or a promise started before an await that can throw and observed only after it",
    certainty: "potential",
    defaultSeverity: "warning",
    scope: "file",
    optionsSchema: {
      type: "object",
      properties: {
        checkVoid: { type: "boolean", description: "report `void p` on a promise that can reject (default true)" },
        keptTypes: {
          type: "array",
          description: "thenable types whose owner keeps them and reports their failure",
          items: {
            type: "object",
            properties: { name: { type: "string" }, package: { type: "string" } },
            required: ["name", "package"],
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
  },
  checkFile(ctx) {
    const { checker, sourceFile } = ctx;
    const checkVoid = ctx.options.checkVoid !== false;
    const kept = keptTypes(ctx.options);
    const isPromise = (e: ts.Node): boolean => {
      const t = checker.getTypeAtLocation(e);
      if (!isThenable(checker, t)) return false;
      return !(t.isUnion() ? t.types.filter((x) => isThenable(checker, x)).every((x) => isKeptType(checker, x, kept)) : isKeptType(checker, t, kept));
    };
    const visit = (n: ts.Node): void => {
      if (checkVoid && ts.isVoidExpression(n) && ts.isExpressionStatement(n.parent)) checkVoidOf(n);
      if (ts.isVariableStatement(n) && ts.isBlock(n.parent)) checkStarted(n);
      ts.forEachChild(n, visit);
    };
    const checkVoidOf = (v: ts.VoidExpression): void => {
      const e = unwrap(v.expression);
      // `void x` on a plain value is how unused values are marked: only calls and `new` start work
      if (!ts.isCallExpression(e) && !ts.isNewExpression(e)) return;
      if (!isPromise(e) || promiseCannotReject(checker, e)) return;
      ctx.report({
        node: v,
        summary: `\`${shortText(v)}\` drops a promise that can reject: \`void\` says the result is not wanted, but a rejection still reaches no handler and becomes an unhandled rejection (which ends a Node process by default)`,
        fix: "handle the failure where it is dropped: `promise.catch((err) => log(err))`, or hand the work to a TaskTracker (`tracker.spawn`) so its failure is reported",
      });
    };
    const checkStarted = (stmt: ts.VariableStatement): void => {
      const fn = ts.findAncestor(stmt, ts.isFunctionLike);
      if (!fn || !isAsyncFunction(fn)) return;
      for (const d of stmt.declarationList.declarations) {
        if (!ts.isIdentifier(d.name) || !d.initializer) continue;
        const init = unwrap(d.initializer);
        if (!ts.isCallExpression(init) && !ts.isNewExpression(init)) continue;
        const name = d.name.text;
        // syntax first: the first later reference, and an await that can throw before it
        let first: ts.Identifier | undefined;
        const find = (x: ts.Node): void => {
          if (first) return;
          if (ts.isIdentifier(x) && x.text === name && x !== d.name && x.pos >= d.end) first = x;
          ts.forEachChild(x, find);
        };
        find(fn);
        if (!first || ts.findAncestor(first, ts.isFunctionLike) !== fn) continue;
        const between = throwingAwaitBetween(fn, d.end, first.getStart());
        if (!between) continue;
        if (!isPromise(d.name) || promiseCannotReject(checker, init)) continue;
        const line = sourceFile.getLineAndCharacterOfPosition(between.getStart()).line + 1;
        ctx.report({
          node: d.name,
          summary: `\`${name}\` starts a promise before the await at line ${line}, and is observed only after it: if that await throws, \`${name}\` is never awaited, and its own failure becomes an unhandled rejection`,
          fix: `start them together and await them together (\`const [a, b] = await Promise.all([…])\`), or attach a handler to \`${name}\` where it is started`,
          data: { await: line },
        });
      }
    };
    visit(sourceFile);
  },
};
