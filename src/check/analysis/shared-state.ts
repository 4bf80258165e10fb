/**
 * Shared state: what concurrent calls of a function can both read and write. A module-level
 * binding (or a property reached from one), a field read through `this`, a variable or
 * parameter captured from an enclosing function. Locals and objects made by the function
 * itself are private to one call and are never shared state.
 */
import ts from "typescript";
import type { FunctionNode } from "./own-flow.js";
import { enclosingFunction, skipOuter } from "./own-flow.js";
import { packageOfFile, packageOfType } from "./lock-apis.js";
import { programOf } from "./program-of.js";

/** A piece of shared state named by an access expression. */
export interface SharedTarget {
  /** Identity: the root binding's id and the property path (`12.balance`, `this:3.stats.hits`). */
  readonly key: string;
  /** As written: `counter`, `this.balance`. */
  readonly name: string;
}

/** Gives small stable ids to symbols and nodes. */
export class Ids {
  private readonly ids = new WeakMap<object, number>();
  private next = 1;
  of(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.next++));
    return id;
  }
}

/** The root of an access chain and the property names after it: `this.a.b` → `this`, [a, b]. */
function chainOf(expr: ts.Expression): { root: ts.Expression; path: string[] } | undefined {
  const path: string[] = [];
  let e = skipOuter(expr);
  while (ts.isPropertyAccessExpression(e)) {
    path.unshift(e.name.text);
    e = skipOuter(e.expression);
  }
  if (ts.isIdentifier(e) || e.kind === ts.SyntaxKind.ThisKeyword) return { root: e, path };
  return undefined;
}

function thisOwner(node: ts.Node): ts.Node | undefined {
  for (let p = node.parent; p; p = p.parent) {
    if (ts.isClassLike(p)) return p;
    if (ts.isFunctionDeclaration(p) || ts.isFunctionExpression(p)) return undefined;
  }
  return undefined;
}

/**
 * The shared state `expr` names as seen from inside `fn`, or undefined when it is private to
 * one call of `fn` (a local, a parameter of `fn`, an object `fn` created) or not a plain access.
 */
export function sharedTarget(expr: ts.Expression, fn: FunctionNode, checker: ts.TypeChecker, ids: Ids): SharedTarget | undefined {
  const chain = chainOf(expr);
  if (!chain) return undefined;
  const name = skipOuter(expr).getText();
  if (chain.root.kind === ts.SyntaxKind.ThisKeyword) {
    const owner = thisOwner(chain.root);
    if (!owner || chain.path.length === 0) return undefined;
    return { key: `this:${ids.of(owner)}.${chain.path.join(".")}`, name };
  }
  let sym = checker.getSymbolAtLocation(chain.root);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  const decl = sym?.valueDeclaration;
  if (!sym || !decl) return undefined;
  const key = `${ids.of(sym)}${chain.path.map((p) => `.${p}`).join("")}`;
  if (ts.isParameter(decl) || ts.isVariableDeclaration(decl) || ts.isBindingElement(decl)) {
    // a parameter or local is shared only when captured by a closure that can run more than once
    // for the call that bound it (a const binding is never reassigned, but what it holds can be
    // read and written)
    return isInside(decl, fn) || runsOncePerCall(fn, decl) ? undefined : { key, name };
  }
  return undefined;
}

const ONCE_CALLBACKS = new Set(["then", "catch", "finally"]);

/**
 * True when every function from `fn` up to the one declaring `decl` runs at most once per call
 * of that one: a `.then`/`.catch`/`.finally` callback, an immediately invoked function, a
 * `new Promise` executor. A binding of the call is then private to it (`message = await
 * reupload(message)` in a `.catch` of the function that took `message`).
 */
function runsOncePerCall(fn: FunctionNode, decl: ts.Node): boolean {
  const owner = enclosingFunction(decl);
  if (!owner) return false;
  for (let f: FunctionNode | undefined = fn; f && f !== owner; f = enclosingFunction(f)) {
    if (!runsOnce(f)) return false;
  }
  return true;
}

function runsOnce(f: FunctionNode): boolean {
  let cur: ts.Node = f;
  while (cur.parent && ts.isParenthesizedExpression(cur.parent)) cur = cur.parent;
  const p = cur.parent;
  if (!p) return false;
  if (ts.isCallExpression(p) && p.expression === cur) return true;
  if (ts.isCallExpression(p) && p.arguments.includes(cur as ts.Expression)) {
    const callee = skipOuter(p.expression);
    return ts.isPropertyAccessExpression(callee) && ONCE_CALLBACKS.has(callee.name.text);
  }
  if (ts.isNewExpression(p) && p.arguments?.includes(cur as ts.Expression)) return ts.isIdentifier(p.expression) && p.expression.text === "Promise";
  return false;
}

/** True when `decl` belongs to `fn`'s own scope (or a function nested in it). */
function isInside(decl: ts.Node, fn: FunctionNode): boolean {
  for (let f = enclosingFunction(decl); f; f = enclosingFunction(f)) if (f === fn) return true;
  return false;
}

/**
 * The target of a `Shared` cell: a `Shared` is shared by nature, so one reached through a
 * parameter or a local alias counts too — only a cell the function creates itself is private.
 */
export function sharedCellTarget(expr: ts.Expression, fn: FunctionNode, checker: ts.TypeChecker, ids: Ids): SharedTarget | undefined {
  const direct = sharedTarget(expr, fn, checker, ids);
  if (direct) return direct;
  const chain = chainOf(expr);
  if (!chain || !ts.isIdentifier(chain.root)) return undefined;
  const sym = checker.getSymbolAtLocation(chain.root);
  const decl = sym?.valueDeclaration;
  if (!sym || !decl) return undefined;
  if (ts.isVariableDeclaration(decl) && decl.initializer && ts.isNewExpression(skipOuter(decl.initializer))) return undefined;
  return { key: `${ids.of(sym)}${chain.path.map((p) => `.${p}`).join("")}`, name: skipOuter(expr).getText() };
}

/** asyncdoctor's `Shared<T>`: `get()` reads it, `set(v)` writes it. */
export function sharedCell(call: ts.CallExpression, checker: ts.TypeChecker): { op: "get" | "set"; cell: ts.Expression } | undefined {
  const callee = skipOuter(call.expression);
  if (!ts.isPropertyAccessExpression(callee)) return undefined;
  const op = callee.name.text;
  if (op !== "get" && op !== "set") return undefined;
  // every `map.get(k)` would cost its receiver's type; with no file of asyncdoctor in the
  // program, no type is asyncdoctor's `Shared`
  const program = programOf(checker);
  if (program && !hasAsyncdoctorFile(program)) return undefined;
  const type = checker.getNonNullableType(checker.getTypeAtLocation(callee.expression));
  const sym = type.getSymbol();
  if (sym?.getName() !== "Shared" || packageOfType(type) !== "asyncdoctor") return undefined;
  return { op, cell: callee.expression };
}

const withAsyncdoctor = new WeakMap<ts.Program, boolean>();

/** True when some file of the program is asyncdoctor's (where `Shared` is declared). */
function hasAsyncdoctorFile(program: ts.Program): boolean {
  let has = withAsyncdoctor.get(program);
  if (has === undefined) withAsyncdoctor.set(program, (has = program.getSourceFiles().some((sf) => packageOfFile(sf.fileName) === "asyncdoctor")));
  return has;
}
