/**
 * Which lock an expression names: "the same one" across a walk of calls. A module-level or
 * imported binding is one lock for the whole program; a class field read through `this` is one
 * lock per instance (and one lock class across instances, as lockdep counts them); a parameter
 * is whatever its caller passed; a local created in a function is a fresh lock on each call.
 */
import ts from "typescript";
import type { FunctionNode } from "./own-flow.js";
import { enclosingFunction, skipOuter } from "./own-flow.js";
import { unwrapLockExpression } from "./lock-apis.js";

/** A lock as named by source code. */
export interface LockRef {
  /** Identity of the instance within one walk of calls: equal keys are the same lock. */
  readonly key: string;
  /** Identity of the lock's class across walks (lockdep's lock class): the declaration it lives in. */
  readonly classKey: string;
  /** The name as written: `sem`, `this.accounts`. */
  readonly name: string;
  /** The expression that created it, when in sight (for its capacity). */
  readonly init?: ts.Expression | undefined;
  /** False when nothing is known of it (a call's result, an element): never equal to another. */
  readonly known: boolean;
}

/** A function being walked: what its parameters and `this` are bound to by the caller. */
export interface Frame {
  readonly id: number;
  readonly bindings: ReadonlyMap<ts.Symbol, LockRef>;
  /** Parameters bound to a function the caller passed (a callback the callee may run). */
  readonly fnBindings: ReadonlyMap<ts.Symbol, { readonly fn: FunctionNode; readonly frame: Frame }>;
  readonly thisRef?: LockRef | undefined;
  /** The function this frame is a call of (undefined for module code). */
  readonly fn?: FunctionNode | undefined;
  /** Parameters the caller passed `true` or `false` literally: a branch on one is dead on this path. */
  readonly constants?: ReadonlyMap<ts.Symbol, boolean> | undefined;
}

/** Resolves lock expressions to {@link LockRef}s; one per checked program. */
export class LockResolver {
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private nextFrame = 1;
  private nextOpaque = 1;

  constructor(private readonly checker: ts.TypeChecker) {}

  /** A stable small number for a symbol or node. */
  idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  newFrame(init: Partial<Omit<Frame, "id">> = {}): Frame {
    return {
      id: this.nextFrame++,
      bindings: init.bindings ?? new Map(),
      fnBindings: init.fnBindings ?? new Map(),
      thisRef: init.thisRef,
      fn: init.fn,
      constants: init.constants,
    };
  }

  /** The symbol an identifier refers to, through imports. */
  symbolOf(node: ts.Node): ts.Symbol | undefined {
    let sym = this.checker.getSymbolAtLocation(node);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = this.checker.getAliasedSymbol(sym);
    return sym;
  }

  /** A lock of unknown identity, equal to no other. */
  unknown(name: string): LockRef {
    return this.opaque(name);
  }

  private opaque(name: string): LockRef {
    const k = `?${this.nextOpaque++}`;
    return { key: k, classKey: k, name, known: false };
  }

  /** The lock `expr` names, evaluated in `frame`. */
  resolve(expr: ts.Expression, frame: Frame, depth = 0): LockRef {
    const e = unwrapLockExpression(skipOuter(expr), this.checker);
    const text = e.getText();
    if (depth > 8) return this.opaque(text);
    if (e.kind === ts.SyntaxKind.ThisKeyword) {
      if (frame.thisRef) return frame.thisRef;
      const owner = thisClass(e);
      const key = owner ? `this:${this.idOf(owner)}` : `this@${frame.id}`;
      return { key, classKey: key, name: "this", known: true };
    }
    if (ts.isIdentifier(e)) {
      const sym = this.symbolOf(e);
      if (!sym) return this.opaque(text);
      const bound = frame.bindings.get(sym);
      if (bound) return bound;
      const id = this.idOf(sym);
      const decl = sym.valueDeclaration ?? sym.declarations?.[0];
      if (decl && ts.isParameter(decl)) {
        const key = ownedBy(decl, frame) ? `p${id}@${frame.id}` : `p${id}`;
        return { key, classKey: `p${id}`, name: text, known: true };
      }
      if (decl && (ts.isVariableDeclaration(decl) || ts.isBindingElement(decl))) {
        // a local is a new binding on each call of its function; one captured from an enclosing
        // function is the same binding for every closure that function created
        const local = enclosingFunction(decl) !== undefined && ownedBy(decl, frame);
        const init = ts.isVariableDeclaration(decl) ? decl.initializer : undefined;
        const isConst = (ts.getCombinedNodeFlags(decl) & ts.NodeFlags.Const) !== 0;
        if (init && isConst && isAliasLike(init)) {
          const target = this.resolve(init, frame, depth + 1);
          if (target.known) return target;
        }
        return { key: local ? `v${id}@${frame.id}` : `v${id}`, classKey: `v${id}`, name: text, init, known: true };
      }
      return { key: `s${id}`, classKey: `s${id}`, name: text, known: true };
    }
    if (ts.isPropertyAccessExpression(e)) {
      const base = this.resolve(e.expression, frame, depth + 1);
      if (!base.known) return this.opaque(text);
      const prop = this.checker.getSymbolAtLocation(e.name);
      const pid = prop ? String(this.idOf(prop)) : e.name.text;
      const decl = prop?.valueDeclaration;
      const init = decl && (ts.isPropertyDeclaration(decl) || ts.isPropertyAssignment(decl)) ? decl.initializer : undefined;
      const name = base.name === "this" ? `this.${e.name.text}` : `${base.name}.${e.name.text}`;
      return { key: `${base.key}.${pid}`, classKey: `${base.classKey}.${pid}`, name, init, known: true };
    }
    return this.opaque(text);
  }
}

/** An initializer that names an existing lock rather than creating one. */
function isAliasLike(init: ts.Expression): boolean {
  const e = skipOuter(init);
  return ts.isIdentifier(e) || ts.isPropertyAccessExpression(e) || e.kind === ts.SyntaxKind.ThisKeyword || ts.isCallExpression(e);
}

/** The class whose instance `this` is at `node` (arrows see through to the enclosing method). */
function thisClass(node: ts.Node): ts.ClassLikeDeclaration | undefined {
  for (let p = node.parent; p; p = p.parent) {
    if (ts.isClassLike(p)) return p;
    if (ts.isFunctionDeclaration(p) || ts.isFunctionExpression(p)) return undefined;
  }
  return undefined;
}

/** True when `decl` is a binding of the call `frame` stands for (or of a callback walked inline in it). */
function ownedBy(decl: ts.Node, frame: Frame): boolean {
  if (!frame.fn) return true;
  for (let f = enclosingFunction(decl); f; f = enclosingFunction(f)) if (f === frame.fn) return true;
  return false;
}

/**
 * True when two holds of one keyed lock (`asyncLock.acquire(key, …)`, `navigator.locks.request(name, …)`)
 * take the same key for sure: equal literals, or the same expression of module bindings and
 * `this` fields. Keys that may differ (a parameter, a local) are given the benefit of the doubt.
 * Two unkeyed holds match.
 */
export function sameKey(a: ts.Expression | undefined, b: ts.Expression | undefined, checker: ts.TypeChecker): boolean {
  if (!a || !b) return !a && !b;
  const x = skipOuter(a);
  const y = skipOuter(b);
  if (x.getText() !== y.getText()) return false;
  if (ts.isStringLiteralLike(x) || ts.isNumericLiteral(x)) return true;
  let stable = true;
  const visit = (n: ts.Node): void => {
    if (!stable) return;
    if (ts.isIdentifier(n) && !(ts.isPropertyAccessExpression(n.parent) && n.parent.name === n)) {
      let sym = checker.getSymbolAtLocation(n);
      if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
      const decl = sym?.valueDeclaration;
      if (!decl || enclosingFunction(decl) !== undefined || ts.isParameter(decl)) stable = false;
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(x);
  return stable;
}
