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

/** Every reference to each program function, indexed once on first use. */
export class ReferenceIndex {
  private index: Map<FunctionNode, FunctionReference[]> | undefined;

  constructor(
    private readonly sourceFiles: readonly ts.SourceFile[],
    private readonly checker: ts.TypeChecker,
  ) {}

  /** The references to `fn` in the checked files (its name used as a callee or as a value). */
  referencesOf(fn: FunctionNode): readonly FunctionReference[] {
    if (!this.index) this.index = this.build();
    return this.index.get(fn) ?? [];
  }

  private build(): Map<FunctionNode, FunctionReference[]> {
    const out = new Map<FunctionNode, FunctionReference[]>();
    const visit = (n: ts.Node): void => {
      if ((ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) && !isDeclarationName(n)) {
        const target = ts.isPropertyAccessExpression(n.parent) && n.parent.name === n ? n.parent : ts.isIdentifier(n) ? n : undefined;
        if (target) {
          const fn = functionOfValue(target, this.checker);
          if (fn) {
            const p = target.parent;
            const call = p && ts.isCallExpression(p) && skipOuter(p.expression) === target ? p : undefined;
            let list = out.get(fn);
            if (!list) out.set(fn, (list = []));
            list.push({ node: target, call });
          }
        }
      }
      ts.forEachChild(n, visit);
    };
    for (const sf of this.sourceFiles) visit(sf);
    return out;
  }
}

function isDeclarationName(n: ts.Node): boolean {
  const p = n.parent;
  return !!p && (ts.isFunctionDeclaration(p) || ts.isMethodDeclaration(p) || ts.isVariableDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isParameter(p)) && (p as { name?: ts.Node }).name === n;
}
