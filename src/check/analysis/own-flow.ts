/**
 * A function's own flow: the nodes that run as part of one call of it, not those of the
 * functions nested in it (callbacks, closures), which run when someone else calls them.
 */
import ts from "typescript";

/** A function-like node that has a body. */
export type FunctionNode =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration;

/** True for any function-like node with a body. */
export function isFunctionNode(node: ts.Node): node is FunctionNode {
  return (
    (ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isFunctionExpression(node) ||
      ts.isArrowFunction(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node)) &&
    node.body !== undefined
  );
}

/** True when the function is `async` (its awaits suspend it). */
export function isAsyncFunction(fn: FunctionNode): boolean {
  return ts.getCombinedModifierFlags(fn) & ts.ModifierFlags.Async ? true : false;
}

/** The innermost function whose own flow contains `node`, or undefined at module level. */
export function enclosingFunction(node: ts.Node): FunctionNode | undefined {
  for (let p = node.parent; p; p = p.parent) if (isFunctionNode(p)) return p;
  return undefined;
}

/** Strips the wrappers that do not change a value: parentheses, `as`, `!`, `satisfies`, `<T>`. */
export function skipOuter(expr: ts.Expression): ts.Expression {
  let e = expr;
  while (
    ts.isParenthesizedExpression(e) ||
    ts.isAsExpression(e) ||
    ts.isNonNullExpression(e) ||
    ts.isSatisfiesExpression(e) ||
    ts.isTypeAssertionExpression(e)
  ) {
    e = e.expression;
  }
  return e;
}

/** Calls `visit` on every node of `root`'s own flow in source order, not entering nested functions. */
export function forEachOwnNode(root: ts.Node, visit: (node: ts.Node) => void): void {
  const walk = (node: ts.Node): void => {
    if (isFunctionNode(node)) return;
    visit(node);
    ts.forEachChild(node, walk);
  };
  if (isFunctionNode(root)) ts.forEachChild(root.body!, walk);
  else ts.forEachChild(root, walk);
}

/** A name for a function in messages: `inner`, `Bank.transfer`, or `<anonymous>`. */
export function functionName(fn: FunctionNode): string {
  const own = fn.name && (ts.isIdentifier(fn.name) || ts.isPrivateIdentifier(fn.name)) ? fn.name.text : undefined;
  if (own) {
    const cls = fn.parent && ts.isClassLike(fn.parent) && fn.parent.name ? fn.parent.name.text : undefined;
    return cls ? `${cls}.${own}` : own;
  }
  if (ts.isConstructorDeclaration(fn)) {
    const cls = ts.isClassLike(fn.parent) && fn.parent.name ? fn.parent.name.text : "class";
    return `${cls} constructor`;
  }
  const p = fn.parent;
  if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  return "<anonymous>";
}
