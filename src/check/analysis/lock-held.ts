/**
 * Whether code runs under mutual exclusion: inside the callback of a scoped acquire, inside a
 * handle acquire's region, or in a function that every caller in the program calls from
 * such a place. Used to tell a racy read-modify-write from one that a lock already serialises.
 */
import ts from "typescript";
import type { LockUse } from "./lock-apis.js";
import { capacityOf, handleRegion, holdsInFlow } from "./lock-apis.js";
import { classifyCall } from "./classify-call.js";
import type { FunctionNode } from "./own-flow.js";
import { enclosingFunction, forEachOwnNode, skipOuter } from "./own-flow.js";
import type { ReferenceIndex } from "./call-graph.js";
import { isWaited } from "./waited.js";

/** A span of source positions of one flow during which a lock is held. */
export interface HeldSpan {
  readonly start: number;
  readonly end: number;
  readonly use: LockUse;
}

/** Admits one holder at a time (or an unknown number, given the benefit of the doubt). */
function excludes(use: LockUse, checker: ts.TypeChecker): boolean {
  if (use.kind === "pool" || use.shared) return false;
  const target = use.targets[0];
  let init: ts.Expression | undefined;
  if (target) {
    const sym = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(target) ? target.name : target);
    const decl = sym?.valueDeclaration;
    if (decl && (ts.isVariableDeclaration(decl) || ts.isPropertyDeclaration(decl))) init = decl.initializer;
  }
  const cap = capacityOf(use.kind, init);
  return cap === undefined || cap === 1;
}

/** Answers "is this point under a lock", with per-function memory. */
export class LockHeld {
  private readonly spans = new Map<ts.Node, HeldSpan[]>();
  private readonly byCallers = new Map<FunctionNode, boolean>();

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly refs: ReferenceIndex,
  ) {}

  /** The handle-acquire spans of a flow (function or source file) that exclude others. */
  spansOf(root: FunctionNode | ts.SourceFile): readonly HeldSpan[] {
    let list = this.spans.get(root);
    if (list) return list;
    list = [];
    const flowRoot = ts.isSourceFile(root) ? root : root.body!;
    forEachOwnNode(root, (n) => {
      if (!ts.isCallExpression(n)) return;
      const use = classifyCall(n, this.checker);
      if (use?.mode === "handle" && excludes(use, this.checker) && isWaited(n, this.checker) && holdsInFlow(use)) {
        list.push({ start: n.end, end: handleRegion(use, flowRoot).end, use });
      }
    });
    this.spans.set(root, list);
    return list;
  }

  /** The scoped acquire whose callback `fn` is, when it excludes others. */
  scopedBy(fn: FunctionNode): LockUse | undefined {
    const p = fn.parent;
    if (!p || !ts.isCallExpression(p)) return undefined;
    const use = classifyCall(p, this.checker);
    return use?.mode === "scoped" && use.callback && skipOuter(use.callback) === fn && excludes(use, this.checker) ? use : undefined;
  }

  /** True when a lock that excludes others is held at `node` for the whole stretch `from`..`node`. */
  heldAcross(from: number, node: ts.Node, depth = 0): boolean {
    const fn = enclosingFunction(node);
    const root = fn ?? node.getSourceFile();
    if (this.spansOf(root).some((s) => s.start <= from && node.getStart() < s.end)) return true;
    return fn !== undefined && this.functionHeld(fn, depth);
  }

  /** True when all of `fn` runs under such a lock: it is a scoped acquire's callback, or every caller holds one. */
  functionHeld(fn: FunctionNode, depth = 0): boolean {
    if (this.scopedBy(fn)) return true;
    if (depth > 3) return false;
    const known = this.byCallers.get(fn);
    if (known !== undefined) return known;
    this.byCallers.set(fn, false); // a cycle of calls proves nothing
    const refs = this.refs.referencesOf(fn);
    const held =
      refs.length > 0 &&
      refs.every((r) => {
        if (r.call) return this.heldAcross(r.call.getStart(), r.call, depth + 1);
        // passed by name as a scoped acquire's callback: `lock.runExclusive(increment)`
        const p = r.node.parent;
        if (p && ts.isCallExpression(p) && p.arguments.includes(r.node)) {
          const use = classifyCall(p, this.checker);
          return use?.mode === "scoped" && use.callback === r.node && excludes(use, this.checker);
        }
        return false;
      });
    this.byCallers.set(fn, held);
    return held;
  }
}
