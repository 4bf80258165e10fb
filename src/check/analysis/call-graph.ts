/**
 * Calls within the program: which function a call runs (when its body is in the checked
 * sources), and where a function is called or passed from.
 */
import ts from "typescript";
import type { FunctionNode } from "./own-flow.js";
import { isFunctionNode, skipOuter } from "./own-flow.js";

/** The function with a body, in the checked program, that `call` runs; undefined for library and unknown calls. */
export function calleeOf(call: ts.CallExpression, checker: ts.TypeChecker): FunctionNode | undefined {
  const callee = skipOuter(call.expression);
  if (isFunctionNode(callee)) return callee; // an immediately invoked function
  const decl = checker.getResolvedSignature(call)?.declaration;
  if (decl && isFunctionNode(decl) && !decl.getSourceFile().isDeclarationFile) return decl;
  return undefined;
}

/** The function a value expression names (`work`, `this.flush`, an inline arrow), if it has a body in the program. */
export function functionOfValue(expr: ts.Expression, checker: ts.TypeChecker): FunctionNode | undefined {
  const e = skipOuter(expr);
  if (isFunctionNode(e)) return e;
  let sym = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(e) ? e.name : e);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  const decl = sym?.valueDeclaration;
  if (!decl) return undefined;
  if (isFunctionNode(decl) && !decl.getSourceFile().isDeclarationFile) return decl;
  if ((ts.isVariableDeclaration(decl) || ts.isPropertyDeclaration(decl)) && decl.initializer) {
    const init = skipOuter(decl.initializer);
    if (isFunctionNode(init)) return init;
  }
  return undefined;
}

/** One place a function is referenced: called, or passed on as a value. */
export interface FunctionReference {
  readonly node: ts.Expression;
  /** The call when `node` is its callee. */
  readonly call?: ts.CallExpression | undefined;
}

/**
 * Every reference to each program function. Identifiers are indexed by name in one syntactic
 * pass; only those named like the function asked about are resolved through the type checker.
 */
export class ReferenceIndex {
  private byName: Map<string, ts.Node[]> | undefined;
  private readonly resolved = new Map<FunctionNode, FunctionReference[]>();

  constructor(
    private readonly sourceFiles: readonly ts.SourceFile[],
    private readonly checker: ts.TypeChecker,
  ) {}

  /** The references to `fn` in the checked files (its name used as a callee or as a value). */
  referencesOf(fn: FunctionNode): readonly FunctionReference[] {
    const known = this.resolved.get(fn);
    if (known) return known;
    const out: FunctionReference[] = [];
    for (const name of namesOf(fn)) {
      for (const n of this.names().get(name) ?? []) {
        const target = ts.isPropertyAccessExpression(n.parent) && n.parent.name === n ? n.parent : ts.isIdentifier(n) ? n : undefined;
        if (!target || functionOfValue(target, this.checker) !== fn) continue;
        const p = target.parent;
        const call = p && ts.isCallExpression(p) && skipOuter(p.expression) === target ? p : undefined;
        out.push({ node: target, call });
      }
    }
    this.resolved.set(fn, out);
    return out;
  }

  private names(): Map<string, ts.Node[]> {
    if (this.byName) return this.byName;
    const map = new Map<string, ts.Node[]>();
    const visit = (n: ts.Node): void => {
      if ((ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) && !isDeclarationName(n)) {
        let list = map.get(n.text);
        if (!list) map.set(n.text, (list = []));
        list.push(n);
      }
      ts.forEachChild(n, visit);
    };
    for (const sf of this.sourceFiles) visit(sf);
    return (this.byName = map);
  }
}

/** The names a function can be referred to by: its own, or the variable or property it initialises. */
function namesOf(fn: FunctionNode): string[] {
  const out: string[] = [];
  if (fn.name && (ts.isIdentifier(fn.name) || ts.isPrivateIdentifier(fn.name))) out.push(fn.name.text);
  const p = fn.parent;
  if (
    p &&
    (ts.isVariableDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isPropertyAssignment(p)) &&
    (ts.isIdentifier(p.name) || ts.isPrivateIdentifier(p.name))
  )
    out.push(p.name.text);
  return out;
}

function isDeclarationName(n: ts.Node): boolean {
  const p = n.parent;
  return (
    !!p &&
    (ts.isFunctionDeclaration(p) || ts.isMethodDeclaration(p) || ts.isVariableDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isParameter(p)) &&
    (p as { name?: ts.Node }).name === n
  );
}
