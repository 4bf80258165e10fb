/**
 * floating-promise: a promise dropped on the floor. Its work may be cut off at shutdown and its
 * rejection reaches no handler (the seed's `create_task` without a reference).
 */
import ts from "typescript";
import type { Rule, Suggestion } from "../rule.js";
import { KEPT_TYPES_SCHEMA, keptTypes, lostPromises } from "../analysis/promise-use.js";
import { calleeSymbol, enclosingFunction, isAsyncFunction, isPromiseArray, shortText, unwrap } from "../analysis/ts-util.js";

/** node:test's suite and test functions: their promise never rejects (the runner reports failures), so not awaiting it loses nothing. */
const NODE_TEST_CALLS = new Set(["describe", "it", "test", "suite"]);

function isNodeTestCall(checker: ts.TypeChecker, e: ts.Expression): boolean {
  const u = unwrap(e);
  if (!ts.isCallExpression(u)) return false;
  const callee = unwrap(u.expression);
  // it.only(…), describe.skip(…) as well as it(…); but not a subtest `t.test(…)`, which must be awaited
  const head = ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) ? callee.expression : callee;
  if (!ts.isIdentifier(head) || !NODE_TEST_CALLS.has(head.text)) return false;
  const sym = calleeSymbol(checker, u);
  return (sym?.declarations ?? []).some((d) => /\/@types\/node\/test\.d\.ts$/.test(d.getSourceFile().fileName));
}

/**
 * typescript-eslint's two suggestions, where the promise is the whole statement: `await` it (in
 * an async function) or mark it `void`. An arm of `c ? p() : q()` gets none: `void` on one arm
 * would not say what the statement means.
 */
function suggestions(e: ts.Expression, array: boolean): Suggestion[] {
  let top: ts.Node = e;
  while (ts.isParenthesizedExpression(top.parent)) top = top.parent;
  if (!ts.isExpressionStatement(top.parent)) return [];
  const start = top.getStart();
  const out: Suggestion[] = [];
  const fn = enclosingFunction(e);
  if (fn && isAsyncFunction(fn)) {
    out.push(
      array
        ? {
            description: "Await them together with `await Promise.all(…)`",
            edits: [
              { start, end: start, text: "await Promise.all(" },
              { start: top.end, end: top.end, text: ")" },
            ],
          }
        : { description: "Add `await`", edits: [{ start, end: start, text: "await " }] },
    );
  }
  if (!array) out.push({ description: "Add `void` to drop it on purpose", edits: [{ start, end: start, text: "void " }] });
  return out;
}

export const floatingPromise: Rule = {
  meta: {
    id: "floating-promise",
    description: "a promise that is neither awaited, returned, stored, handled with .catch nor voided",
    certainty: "proven",
    defaultSeverity: "error",
    scope: "file",
    optionsSchema: KEPT_TYPES_SCHEMA,
  },
  checkFile(ctx) {
    const { checker, program, sourceFile } = ctx;
    const { dropped, unread } = lostPromises(program, checker, sourceFile, keptTypes(ctx.options));
    for (const { expr: e, aggregate } of dropped) {
      // a dropped Promise.all(…) is unawaited-aggregate's finding
      if (aggregate || isNodeTestCall(checker, e)) continue;
      const array = isPromiseArray(checker, checker.getTypeAtLocation(e));
      ctx.report({
        node: e,
        summary: array
          ? `\`${shortText(e)}\` makes an array of promises that nothing awaits: the work runs on unobserved and its failures reach no handler`
          : `\`${shortText(e)}\` starts a promise that nothing awaits, returns or handles: its work can be cut off unnoticed and its rejection reaches no handler`,
        fix: array
          ? "await them together: `await Promise.all(…)`, or use `for … of` with `await` to run them one by one"
          : "`await` it (or return it); for background work hand it to a TaskTracker (`tracker.spawn`); write `void` only where losing its failure is intended",
        suggestions: suggestions(e, array),
      });
    }
    for (const { decl, aggregate } of unread) {
      if (aggregate) continue;
      const name = decl.name.text;
      ctx.report({
        node: decl.name,
        summary: `the promise held in \`${name}\` is never awaited, returned or passed on: its work can be cut off unnoticed and its rejection reaches no handler`,
        fix: `\`await ${name}\` where its result is needed, or return it; for background work hand it to a TaskTracker (\`tracker.spawn\`)`,
      });
    }
  },
};
