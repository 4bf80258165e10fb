/**
 * The held-region model: walks every function of the program in evaluation order, carrying
 * the locks held at each point, and follows the calls the holder waits for into their bodies
 * (binding parameters and `this` to what the caller passed). Each waited acquire is handed to
 * the rule with the locks held at that moment and the call chain that led there.
 *
 * "Held" spans a scoped acquire's callback (`runExclusive(fn)`, `use(fn)`, `limit(fn)`) and a
 * handle acquire's region (`acquire()` … `release()`). Only waited operations count: a holder
 * that does not wait for a nested acquire cannot hang on it. A callback handed to a program
 * function that takes a lock around it (`withTx(async (client) => …)`) is followed into that
 * function, and runs there with the lock held.
 */
import ts from "typescript";
import type { CustomTypes, LockUse } from "./lock-apis.js";
import { handleRegion, holdsInFlow, NO_CUSTOM_TYPES } from "./lock-apis.js";
import { classifyCall } from "./classify-call.js";
import type { Frame, LockRef } from "./lock-identity.js";
import { LockResolver } from "./lock-identity.js";
import type { FunctionNode } from "./own-flow.js";
import { forEachOwnNode, functionName, isAsyncFunction, isFunctionNode, skipOuter } from "./own-flow.js";
import { calleeOf, functionOfValue } from "./call-graph.js";
import { isWaited } from "./waited.js";
import { programOf } from "./program-of.js";
import { exportedNames, memberNamesOf } from "./member-names.js";

/** A lock held at some point of a walk. */
export interface Held {
  readonly ref: LockRef;
  readonly use: LockUse;
  /** The length of the call chain when it was acquired (the chain's element at this index left the holder's function). */
  readonly depth: number;
  /** The name of what the hold gives (a pool's client, a transaction), when bound to a name. */
  readonly client?: string | undefined;
}

/** One call of the chain from the walk's entry function. */
export interface CallLink {
  readonly call: ts.CallExpression;
  readonly callee: FunctionNode;
  readonly name: string;
  /** The callbacks the call handed down: the same function entered with other callbacks is not recursion. */
  readonly callbacks: string;
}

/** An acquire the current flow waits for. */
export interface AcquireEvent {
  readonly use: LockUse;
  readonly ref: LockRef;
  /** What is held when it is made, outermost first. */
  readonly held: readonly Held[];
  /** The calls from the entry function to the function making it. */
  readonly chain: readonly CallLink[];
}

/** Where the problem with a held lock shows in the holder's own code: the acquire itself, or the call that leads to it. */
export function anchorOf(event: AcquireEvent, held: Held): ts.Node {
  return held.depth < event.chain.length ? event.chain[held.depth]!.call : event.use.call;
}

/** The calls between the holder's function and the acquire. */
export function chainFrom(event: AcquireEvent, held: Held): readonly CallLink[] {
  return event.chain.slice(held.depth);
}

const MAX_DEPTH = 12;

// the three lock rules walk the same program: the events are computed once per program (and
// set of custom types) and replayed
const cache = new WeakMap<ts.TypeChecker, Map<string, { files: readonly ts.SourceFile[]; events: readonly AcquireEvent[] }>>();

/**
 * Walks every function of `sourceFiles`, calling `onAcquire` for each waited acquire. Every
 * program is walked: a hand-written lock, recognised by shape, can be anywhere.
 */
export function walkHeld(
  sourceFiles: readonly ts.SourceFile[],
  checker: ts.TypeChecker,
  onAcquire: (e: AcquireEvent) => void,
  custom: CustomTypes = NO_CUSTOM_TYPES,
): void {
  let byCustom = cache.get(checker);
  if (!byCustom) {
    const fresh: NonNullable<ReturnType<typeof cache.get>> = new Map();
    cache.set(checker, (byCustom = fresh));
  }
  const key = JSON.stringify([custom.locks, custom.pools]);
  let hit = byCustom.get(key);
  if (!hit || hit.files.length !== sourceFiles.length || hit.files.some((f, i) => f !== sourceFiles[i])) {
    const events: AcquireEvent[] = [];
    new Walker(checker, (e) => events.push(e), custom).run(sourceFiles);
    hit = { files: [...sourceFiles], events };
    byCustom.set(key, hit);
  }
  for (const e of hit.events) onAcquire(e);
}

class Walker {
  private readonly resolver: LockResolver;
  private readonly seen = new Set<string>();
  private readonly useCache = new Map<ts.CallExpression, LockUse | null>();

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly onAcquire: (e: AcquireEvent) => void,
    private readonly custom: CustomTypes,
  ) {
    this.resolver = new LockResolver(checker);
  }

  /** Whether any function of the program takes a lock in its own flow (see onCall). */
  private anyTaker = true;
  /**
   * The names a method call must use to reach a function that takes a lock (see onCall), when
   * every function of the program is known; undefined when not.
   */
  private takerNames: ReadonlySet<string> | undefined;

  run(sourceFiles: readonly ts.SourceFile[]): void {
    // With nothing held, a call is only followed into a function that takes a lock; when the
    // program has none (most code), resolving every call's target is wasted work, and when it
    // has some, so is resolving a method call named like none of them.
    const program = programOf(this.checker);
    if (program) {
      const names = new Set<string>(["default"]);
      let unnamed = false;
      let taker = false;
      for (const sf of program.getSourceFiles()) {
        if (sf.isDeclarationFile) continue;
        const find = (n: ts.Node): void => {
          if (isFunctionNode(n) && this.takesLock(n)) {
            taker = true;
            if (!memberNamesOf(n, names)) unnamed = true;
          }
          if (ts.isExportSpecifier(n) || ts.isExportAssignment(n)) exportedNames(n, names);
          ts.forEachChild(n, find);
        };
        ts.forEachChild(sf, find);
      }
      this.anyTaker = taker;
      this.takerNames = unnamed ? undefined : names;
    } else {
      let taker = false;
      for (const sf of sourceFiles) {
        const find = (n: ts.Node): void => {
          if (taker) return;
          if (isFunctionNode(n) && this.takesLock(n)) taker = true;
          else ts.forEachChild(n, find);
        };
        ts.forEachChild(sf, find);
        if (taker) break;
      }
      this.anyTaker = taker;
    }
    for (const sf of sourceFiles) {
      this.flow(sf, this.resolver.newFrame(), [], []);
      const visit = (n: ts.Node): void => {
        // a scoped acquire's inline callback is walked from its enclosing flow, with what is held
        // there; walked again on its own it would lose that (and a gate lock around it)
        if (isFunctionNode(n) && !this.isScopedCallback(n)) this.flow(n, this.resolver.newFrame({ fn: n }), [], []);
        ts.forEachChild(n, visit);
      };
      ts.forEachChild(sf, visit);
    }
  }

  private isScopedCallback(fn: FunctionNode): boolean {
    let p: ts.Node = fn.parent;
    while (ts.isParenthesizedExpression(p) || ts.isAsExpression(p)) p = p.parent;
    if (!ts.isCallExpression(p)) return false;
    const use = this.classify(p);
    return use?.mode === "scoped" && use.callback !== undefined && skipOuter(use.callback) === fn;
  }

  private readonly holders = new Map<FunctionNode, boolean>();

  /** True when the function's own flow takes a lock or a connection and holds it (a scoped or handle acquire). */
  private takesLock(fn: FunctionNode): boolean {
    let r = this.holders.get(fn);
    if (r === undefined) {
      r = false;
      forEachOwnNode(fn, (n) => {
        if (!r && ts.isCallExpression(n) && this.classify(n)?.mode !== undefined && this.classify(n)!.mode !== "query") r = true;
      });
      this.holders.set(fn, r);
    }
    return r;
  }

  private classify(call: ts.CallExpression): LockUse | undefined {
    let u = this.useCache.get(call);
    if (u === undefined) this.useCache.set(call, (u = classifyCall(call, this.checker, this.custom) ?? null));
    return u ?? undefined;
  }

  /** Walks the own flow of a function (or a source file's top level) with `held` held on entry. */
  private flow(root: FunctionNode | ts.SourceFile, frame: Frame, held: readonly Held[], chain: readonly CallLink[]): void {
    const open: { held: Held; start: number; end: number }[] = [];
    const heldAt = (pos: number): readonly Held[] =>
      open.length === 0 ? held : [...held, ...open.filter((o) => pos >= o.start && pos < o.end).map((o) => o.held)];
    const flowRoot: ts.Node = ts.isSourceFile(root) ? root : root.body!;
    const visit = (node: ts.Node): void => {
      if (isFunctionNode(node)) return;
      // `if (!calledFromInit) { … }` entered with `true` for it: that branch does not run on this path
      if (ts.isIfStatement(node) && frame.constants) {
        const value = this.constantOf(node.expression, frame);
        if (value !== undefined) {
          visit(node.expression);
          const live = value ? node.thenStatement : node.elseStatement;
          if (live) visit(live);
          return;
        }
      }
      if (ts.isCallExpression(node)) {
        ts.forEachChild(node, visit);
        const now = heldAt(node.getStart());
        const use = this.classify(node);
        if (use) this.onUse(use, frame, now, chain, (h, end) => open.push({ held: h, start: node.end, end }), flowRoot);
        else this.onCall(node, frame, now, chain);
        return;
      }
      ts.forEachChild(node, visit);
    };
    if (ts.isSourceFile(root)) ts.forEachChild(root, visit);
    else visit(root.body!);
  }

  /** The value of a condition on a literal-bound parameter (`p`, `!p`), if known on this path. */
  private constantOf(cond: ts.Expression, frame: Frame): boolean | undefined {
    const e = skipOuter(cond);
    if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.ExclamationToken) {
      const v = this.constantOf(e.operand, frame);
      return v === undefined ? undefined : !v;
    }
    if (!ts.isIdentifier(e)) return undefined;
    const sym = this.resolver.symbolOf(e);
    return sym ? frame.constants?.get(sym) : undefined;
  }

  private onUse(
    use: LockUse,
    frame: Frame,
    now: readonly Held[],
    chain: readonly CallLink[],
    openRegion: (h: Held, end: number) => void,
    flowRoot: ts.Node,
  ): void {
    const waited = isWaited(use.call, this.checker);
    // a lock known only by shape whose identity depends on its arguments is never the same as another
    const refs = use.opaque ? [this.resolver.unknown(use.targets[0]?.getText() ?? use.method)] : use.targets.map((t) => this.resolver.resolve(t, frame));
    if (waited) for (const ref of refs) this.onAcquire({ use, ref, held: now, chain });
    if (use.mode === "scoped" && use.callback) {
      const cb = skipOuter(use.callback);
      const fn = functionOfValue(cb, this.checker);
      const client = fn && fn.parameters[0] && ts.isIdentifier(fn.parameters[0].name) ? fn.parameters[0].name.text : undefined;
      const inner = [...(waited ? now : []), ...refs.map((ref) => ({ ref, use, depth: chain.length, client }))];
      if (fn && fn === cb)
        this.flow(fn, frame, inner, chain); // inline: the caller's locals are in scope
      else if (fn) this.enter(use.call, fn, this.resolver.newFrame({ fn }), inner, chain);
    } else if (use.mode === "handle" && (waited || use.immediate) && holdsInFlow(use)) {
      const region = handleRegion(use, flowRoot);
      for (const ref of refs) openRegion({ ref, use, depth: chain.length, client: region.names[0] }, region.end);
    }
  }

  private onCall(call: ts.CallExpression, frame: Frame, now: readonly Held[], chain: readonly CallLink[]): void {
    // With nothing held, a call is still followed into a program function that takes a lock
    // itself, for what the caller binds: a callback that runs inside the hold
    // (`withTx(async (client) => …)`), or the locks it is given (`transfer(a, b)`, `a.moveTo(b)`).
    const callee = skipOuter(call.expression);
    let target: FunctionNode | undefined;
    if (now.length === 0) {
      if (!this.anyTaker) return;
      if (call.arguments.length === 0 && !ts.isPropertyAccessExpression(callee)) return;
      // the method a call names is the member of that name (or an export renamed to it): when no
      // function that takes a lock has it, the call cannot reach one, and its receiver's type
      // (what resolving the target costs) is not needed
      if (this.takerNames && ts.isPropertyAccessExpression(callee) && !this.takerNames.has(callee.name.text)) return;
      target = functionOfValue(callee, this.checker);
      if (!target || target === callee || !this.takesLock(target)) return;
    }
    // a holder that does not wait for the call carries nothing into it
    const carried = now.length > 0 && isWaited(call, this.checker) ? now : [];
    if (carried.length > 0 && !this.onWaitedCallback(call, callee, frame, carried, chain)) return;
    target ??= calleeOf(call, this.checker);
    if (!target || target === callee) return;
    if (carried.length === 0 && !this.takesLock(target)) return;
    const bindings = new Map<ts.Symbol, LockRef>();
    const fnBindings = new Map<ts.Symbol, { fn: FunctionNode; frame: Frame }>();
    const constants = new Map<ts.Symbol, boolean>();
    target.parameters.forEach((p, i) => {
      const arg = call.arguments[i];
      if (!arg || !ts.isIdentifier(p.name)) return;
      const sym = this.checker.getSymbolAtLocation(p.name);
      if (!sym) return;
      const a = skipOuter(arg);
      if (a.kind === ts.SyntaxKind.TrueKeyword || a.kind === ts.SyntaxKind.FalseKeyword) constants.set(sym, a.kind === ts.SyntaxKind.TrueKeyword);
      if (isFunctionNode(a)) fnBindings.set(sym, { fn: a, frame });
      else if (ts.isIdentifier(a) && frame.fnBindings.has(this.resolver.symbolOf(a)!)) fnBindings.set(sym, frame.fnBindings.get(this.resolver.symbolOf(a)!)!);
      else bindings.set(sym, this.resolver.resolve(a, frame));
    });
    const thisRef = ts.isPropertyAccessExpression(callee) ? this.resolver.resolve(callee.expression, frame) : undefined;
    this.enter(
      call,
      target,
      this.resolver.newFrame({ bindings, fnBindings, thisRef, fn: target, constants: constants.size > 0 ? constants : undefined }),
      carried,
      chain,
    );
  }

  /**
   * A waited call whose callback runs in the caller's flow: a callback handed down, `map` under
   * `Promise.all`, a library call given an async callback, an immediately invoked function.
   * Returns true when the call is instead a program function to enter.
   */
  private onWaitedCallback(call: ts.CallExpression, callee: ts.Expression, frame: Frame, now: readonly Held[], chain: readonly CallLink[]): boolean {
    // a callback the caller handed down, run and waited for here
    if (ts.isIdentifier(callee)) {
      const sym = this.resolver.symbolOf(callee);
      const bound = sym && frame.fnBindings.get(sym);
      if (bound) {
        this.flow(bound.fn, bound.frame, now, chain);
        return false;
      }
    }
    // `await Promise.all(items.map(async (x) => …))`: every callback runs and is waited
    if (ts.isPropertyAccessExpression(callee) && (callee.name.text === "map" || callee.name.text === "flatMap") && call.arguments[0]) {
      const cb = skipOuter(call.arguments[0]);
      if (isFunctionNode(cb)) this.flow(cb, frame, now, chain);
      return false;
    }
    const target = calleeOf(call, this.checker);
    if (!target) {
      // an awaited library call handed an async callback (`withTimeout(async () => …)`, `pRetry(…)`,
      // `als.run(store, async () => …)`) runs it, and its caller waits for it
      for (const arg of call.arguments) {
        const fn = skipOuter(arg);
        if (isFunctionNode(fn) && (isAsyncFunction(fn) || (ts.isArrowFunction(fn) && !ts.isBlock(fn.body)))) this.flow(fn, frame, now, chain);
      }
      return false;
    }
    if (target === callee) {
      this.flow(target, frame, now, chain); // an immediately invoked function
      return false;
    }
    return true;
  }

  private enter(call: ts.CallExpression, target: FunctionNode, frame: Frame, held: readonly Held[], chain: readonly CallLink[]): void {
    const callbacks = [...frame.fnBindings.values()].map((b) => this.resolver.idOf(b.fn)).join(",");
    if (chain.length >= MAX_DEPTH || chain.some((l) => l.callee === target && l.callbacks === callbacks)) return;
    const link: CallLink = { call, callee: target, name: functionName(target), callbacks };
    const next = [...chain, link];
    const key = [
      this.resolver.idOf(target),
      held.map((h) => `${h.ref.key}@${this.resolver.idOf(next[h.depth]?.call ?? h.use.call)}`).join(","),
      [...frame.bindings].map(([s, r]) => `${this.resolver.idOf(s)}=${r.key}`).join(","),
      [...frame.fnBindings].map(([s, b]) => `${this.resolver.idOf(s)}=${this.resolver.idOf(b.fn)}`).join(","),
      frame.thisRef?.key ?? "",
      [...(frame.constants ?? [])].map(([s, v]) => `${this.resolver.idOf(s)}=${v}`).join(","),
    ].join("|");
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.flow(target, frame, held, next);
  }
}
