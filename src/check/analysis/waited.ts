/**
 * Whether the function an expression runs in waits for that expression's promise: it is
 * awaited, returned, gathered by an awaited `Promise.all`, chained with `.then` into one of
 * those, or stored in a local that is later awaited. A promise nobody waits for cannot make
 * its creator hang, so lock rules only follow waited operations.
 */
import ts from "typescript";
import { enclosingFunction, forEachOwnNode, skipOuter } from "./own-flow.js";

const AGGREGATES = new Set(["all", "allSettled", "race", "any"]);

function isPromiseAggregate(call: ts.Node): call is ts.CallExpression {
  if (!ts.isCallExpression(call)) return false;
  const callee = skipOuter(call.expression);
  return (
    ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === "Promise" && AGGREGATES.has(callee.name.text)
  );
}

/** True when the enclosing function's flow waits for `expr` to settle. */
export function isWaited(expr: ts.Expression, checker: ts.TypeChecker, depth = 0): boolean {
  let cur: ts.Node = expr;
  for (;;) {
    const p = cur.parent;
    if (!p) return false;
    if (
      ts.isParenthesizedExpression(p) ||
      ts.isAsExpression(p) ||
      ts.isNonNullExpression(p) ||
      ts.isSatisfiesExpression(p) ||
      ts.isTypeAssertionExpression(p) ||
      ts.isSpreadElement(p)
    ) {
      cur = p;
      continue;
    }
    if (ts.isAwaitExpression(p) || ts.isReturnStatement(p) || ts.isYieldExpression(p)) return true;
    if (ts.isArrowFunction(p)) return p.body === cur;
    if (ts.isConditionalExpression(p) && p.condition !== cur) {
      cur = p;
      continue;
    }
    if (ts.isBinaryExpression(p)) {
      const op = p.operatorToken.kind;
      if (op === ts.SyntaxKind.QuestionQuestionToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.AmpersandAmpersandToken) {
        cur = p;
        continue;
      }
      return false;
    }
    // a method chain on the value (`.then(…)`, a query builder's `.where(…)`): the chain is what is waited
    if (ts.isPropertyAccessExpression(p) && p.expression === cur && p.parent && ts.isCallExpression(p.parent) && p.parent.expression === p) {
      cur = p.parent;
      continue;
    }
    if (ts.isArrayLiteralExpression(p) && p.parent && isPromiseAggregate(p.parent)) {
      cur = p.parent;
      continue;
    }
    if (isPromiseAggregate(p) && p.arguments.includes(cur as ts.Expression)) {
      cur = p;
      continue;
    }
    if (ts.isVariableDeclaration(p) && p.initializer === cur && ts.isIdentifier(p.name)) {
      return depth < 3 && isLocalWaitedLater(p, checker, depth);
    }
    return false;
  }
}

/** `const p = op(); …; await p`: some later use of the local in the same flow is waited. */
function isLocalWaitedLater(decl: ts.VariableDeclaration, checker: ts.TypeChecker, depth: number): boolean {
  const sym = checker.getSymbolAtLocation(decl.name);
  if (!sym) return false;
  const fn = enclosingFunction(decl);
  const root: ts.Node = fn ?? decl.getSourceFile();
  let waited = false;
  const name = (decl.name as ts.Identifier).text;
  forEachOwnNode(root, (n) => {
    // the name first: resolving every identifier of the flow is what this would cost otherwise
    if (waited || !ts.isIdentifier(n) || n.text !== name || n.pos < decl.end || n === decl.name) return;
    if (checker.getSymbolAtLocation(n) === sym && isWaited(n, checker, depth + 1)) waited = true;
  });
  return waited;
}
