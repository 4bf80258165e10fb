/**
 * The names a property access (`recv.name(…)`) can reach a declaration by. The symbol a member
 * access resolves to is named as written, so a function whose names are all unlike the member's
 * cannot be what the access runs, and a walk can skip resolving it (the receiver's type, which
 * is what resolving costs). The exception, an export renamed (`export { a as b }`, `export
 * default`), is covered by adding every exported name.
 */
import ts from "typescript";
import type { FunctionNode } from "./own-flow.js";
import { skipOuter } from "./own-flow.js";

/**
 * The text of a member or binding name when the source fixes it (`foo`, `#foo`, `"foo"`,
 * `["foo"]`); null for a symbol-keyed member (`[Symbol.iterator]`, `[Symbol.for("x")]`), which
 * no `recv.name` reaches; undefined when it is computed at run time.
 */
export function fixedName(name: ts.Node | undefined): string | null | undefined {
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  if (!ts.isComputedPropertyName(name)) return undefined;
  const e = skipOuter(name.expression);
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isNumericLiteral(e)) return e.text;
  const symbolRoot = ts.isPropertyAccessExpression(e)
    ? e.expression
    : ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression)
      ? e.expression.expression
      : undefined;
  if (symbolRoot && ts.isIdentifier(symbolRoot) && symbolRoot.text === "Symbol") return null;
  return undefined;
}

/** Adds a declaration's name to `out`; false when it is computed at run time. */
export function addName(name: ts.Node | undefined, out: Set<string>): boolean {
  const n = fixedName(name);
  if (typeof n === "string") out.add(n);
  return n !== undefined;
}

/**
 * Adds to `out` the names a property access can reach `fn` by (as `functionOfValue` resolves
 * it): its own name, or the variable or property it initialises. False when one of them is
 * computed at run time, so no name can be ruled out.
 */
export function memberNamesOf(fn: FunctionNode, out: Set<string>): boolean {
  let fixed = true;
  if (fn.name && !addName(fn.name, out)) fixed = false;
  const p = fn.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isPropertyAssignment(p)) && p.initializer && skipOuter(p.initializer) === fn) {
    // a destructuring binding is never the declaration a member resolves to
    if (!ts.isVariableDeclaration(p) || ts.isIdentifier(p.name)) fixed = addName(p.name, out) && fixed;
  }
  return fixed;
}

/** The names an export gives (`export { a as b }` gives `b`; `export default` gives `default`, which callers add anyway, for `export default function`): a namespace's member of that name may be any function. */
export function exportedNames(n: ts.ExportSpecifier | ts.ExportAssignment, out: Set<string>): void {
  if (ts.isExportAssignment(n)) out.add("default");
  else out.add(n.name.text);
}
