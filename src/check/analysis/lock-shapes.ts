/**
 * Hand-written locks, limiters and pools recognised by their shape, with no configuration:
 *
 * - a function that runs a callback it is given under a hold the held-region walk cannot see
 *   through by itself: a lock made per closure (Baileys' `makeMutex()` around async-mutex), a
 *   keyed one (`map.get(key)`, `navigator.locks.request(name, …)`), a promise-chain lock
 *   (`tail = tail.then(fn)`), or another such function (auth-js's `_acquireLock(timeout, fn)`
 *   around `this.lock(name, timeout, fn)`), at any depth;
 * - a limiter factory whose returned `(fn) => Promise` counts or queues in the factory's state;
 * - an object with `acquire()`/`release()` or `lock()`/`unlock()`;
 * - a pool whose `connect()`/`acquire()`/`getConnection()` gives something with `release()`
 *   and whose own `query()` takes a connection of its own.
 *
 * A call of such a function is a scoped acquire of the lock as the caller names it (the
 * receiver's `mutex`, the field `this.lock`), so two mutexes made by two calls of one factory
 * stay two locks.
 */
import ts from "typescript";
import type { CustomTypes, LockUse } from "./lock-apis.js";
import { classifyKnown, handleRegion, holdsInFlow } from "./lock-apis.js";
import type { LockKind } from "../knowledge/package-knowledge.js";
import { isCallable, packageOfTypeNode } from "../knowledge/package-knowledge.js";
import { knowledgeOf } from "../knowledge/index.js";
import type { FunctionNode } from "./own-flow.js";
import { enclosingFunction, forEachOwnNode, isFunctionNode, skipOuter } from "./own-flow.js";
import { functionOfValue } from "./call-graph.js";
import { isWaited } from "./waited.js";
import { programOf } from "./program-of.js";
import { addName, exportedNames, memberNamesOf } from "./member-names.js";

/** A function that runs its parameter `index` under a hold. */
interface Runner {
  readonly index: number;
  readonly kind: LockKind;
  /** The parameter its lock is keyed by (`mutex(key, fn)`, `lock(name, timeout, fn)`), if any. */
  readonly keyIndex?: number | undefined;
}

interface State {
  /** See candidateNames: null when the program's files are not known, or a name is computed. */
  names?: ReadonlySet<string> | null;
  readonly calls: Map<ts.CallExpression, LockUse | null>;
  readonly runners: Map<FunctionNode, Runner | null>;
  readonly busy: Set<FunctionNode>;
  readonly fieldValues: Map<ts.Symbol, readonly FunctionNode[]>;
}

const states = new WeakMap<ts.TypeChecker, State>();

function stateOf(checker: ts.TypeChecker): State {
  let s = states.get(checker);
  if (!s) states.set(checker, (s = { calls: new Map(), runners: new Map(), busy: new Set(), fieldValues: new Map() }));
  return s;
}

function symbolOf(node: ts.Node, checker: ts.TypeChecker): ts.Symbol | undefined {
  let sym = checker.getSymbolAtLocation(node);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  return sym;
}

/** True when `root` (its whole subtree, nested functions included) refers to `sym`. */
function mentions(root: ts.Node, sym: ts.Symbol, checker: ts.TypeChecker): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (ts.isIdentifier(n) && n.text === sym.getName() && symbolOf(n, checker) === sym) found = true;
    else ts.forEachChild(n, visit);
  };
  visit(root);
  return found;
}

/** The functions `fn` returns: `() => (x) => …`, `return function (x) { … }`, `return run`. */
function returnedFunctions(fn: FunctionNode, checker: ts.TypeChecker): FunctionNode[] {
  const body = fn.body!;
  if (!ts.isBlock(body)) {
    const f = functionOfValue(body, checker);
    return f && f !== fn ? [f] : [];
  }
  const out: FunctionNode[] = [];
  forEachOwnNode(fn, (n) => {
    if (ts.isReturnStatement(n) && n.expression) {
      const f = functionOfValue(n.expression, checker);
      if (f && f !== fn) out.push(f);
    }
  });
  return out;
}

/** The function values an assignment's right side may give: `a || b`, `a ?? b`, `c ? a : b`. */
function valuesOf(expr: ts.Expression, checker: ts.TypeChecker, out: FunctionNode[]): void {
  const e = skipOuter(expr);
  if (ts.isBinaryExpression(e) && (e.operatorToken.kind === ts.SyntaxKind.BarBarToken || e.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken)) {
    valuesOf(e.left, checker, out);
    valuesOf(e.right, checker, out);
  } else if (ts.isConditionalExpression(e)) {
    valuesOf(e.whenTrue, checker, out);
    valuesOf(e.whenFalse, checker, out);
  } else {
    const f = functionOfValue(e, checker);
    if (f) out.push(f);
  }
}

/** The functions assigned to a field of function type in its class (`this.lock = settings.lock || navigatorLock`). */
function fieldValues(sym: ts.Symbol, checker: ts.TypeChecker, st: State): readonly FunctionNode[] {
  const known = st.fieldValues.get(sym);
  if (known) return known;
  const out: FunctionNode[] = [];
  const decl = sym.valueDeclaration;
  const cls = decl && ts.isPropertyDeclaration(decl) ? decl.parent : undefined;
  if (cls && ts.isClassLike(cls)) {
    const visit = (n: ts.Node): void => {
      if (
        ts.isBinaryExpression(n) &&
        n.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
        ts.isPropertyAccessExpression(n.left) &&
        n.left.name.text === sym.getName()
      ) {
        if (symbolOf(n.left.name, checker) === sym) valuesOf(n.right, checker, out);
      }
      ts.forEachChild(n, visit);
    };
    visit(cls);
  }
  st.fieldValues.set(sym, out);
  return out;
}

/** A function a callee may run; `made` when a factory call returned it (a limiter's shape). */
interface Candidate {
  readonly fn: FunctionNode;
  readonly made: boolean;
}

/** The program functions a callee may run. */
function candidates(callee: ts.Expression, checker: ts.TypeChecker, st: State): readonly Candidate[] {
  const direct = functionOfValue(callee, checker);
  if (direct) return [{ fn: direct, made: false }];
  const sym = symbolOf(ts.isPropertyAccessExpression(callee) ? callee.name : callee, checker);
  const decl = sym?.valueDeclaration;
  if (!sym || !decl) return [];
  // `const limit = makeLimiter(2)`, `const withLock = makeLock()`: what the factory returns
  if (ts.isVariableDeclaration(decl) && decl.initializer && ts.isCallExpression(skipOuter(decl.initializer))) {
    const factory = functionOfValue(skipOuter((skipOuter(decl.initializer) as ts.CallExpression).expression), checker);
    return factory ? returnedFunctions(factory, checker).map((fn) => ({ fn, made: true })) : [];
  }
  if (ts.isPropertyDeclaration(decl)) return fieldValues(sym, checker, st).map((fn) => ({ fn, made: false }));
  return [];
}

/**
 * Every name a member access can reach a candidate by (see candidates): a function with a
 * parameter (a runner or a limiter takes its callback as one), a variable a call initialises
 * (a factory's product), a class field (its assigned values), an export's name. Undefined when
 * the program's files are not known or one of those names is computed.
 */
function candidateNames(checker: ts.TypeChecker, st: State): ReadonlySet<string> | undefined {
  if (st.names !== undefined) return st.names ?? undefined;
  const program = programOf(checker);
  if (!program) return (st.names = null) ?? undefined;
  const names = new Set<string>(["default"]);
  let fixed = true;
  const visit = (n: ts.Node): void => {
    if (!fixed) return;
    if (isFunctionNode(n) && n.parameters.length > 0 && !memberNamesOf(n, names)) fixed = false;
    // (a destructuring binding is never a variable declaration a member resolves to)
    else if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && ts.isCallExpression(skipOuter(n.initializer))) names.add(n.name.text);
    else if (ts.isPropertyDeclaration(n) && !addName(n.name, names)) fixed = false;
    else if (ts.isExportSpecifier(n) || ts.isExportAssignment(n)) exportedNames(n, names);
    ts.forEachChild(n, visit);
  };
  for (const sf of program.getSourceFiles()) if (!sf.isDeclarationFile) visit(sf);
  st.names = fixed ? names : null;
  return st.names ?? undefined;
}

/** The variable an access chain starts from (`entry` for `entry.mutex`), if any. */
function rootIdentifier(expr: ts.Expression): ts.Identifier | undefined {
  let e = skipOuter(expr);
  while (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e) || ts.isCallExpression(e)) e = skipOuter(e.expression);
  return ts.isIdentifier(e) ? e : undefined;
}

/** The index of a parameter of `fn` other than `callback` that `expr` depends on, directly or through `fn`'s locals. */
function paramDependedOn(expr: ts.Node | undefined, fn: FunctionNode, callback: ts.Symbol, checker: ts.TypeChecker, depth = 0): number | undefined {
  if (!expr || depth > 3) return undefined;
  let found: number | undefined;
  const visit = (n: ts.Node): void => {
    if (found !== undefined) return;
    if (ts.isIdentifier(n)) {
      const sym = symbolOf(n, checker);
      const decl = sym?.valueDeclaration;
      if (sym && sym !== callback && decl) {
        if (ts.isParameter(decl) && decl.parent === fn) found = fn.parameters.indexOf(decl);
        else if (ts.isVariableDeclaration(decl) && decl.initializer && enclosingFunction(decl) === fn && decl.initializer !== expr) {
          found = paramDependedOn(decl.initializer, fn, callback, checker, depth + 1);
        }
      }
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(expr);
  return found;
}

/** The parameter a hold's lock is keyed by: its key, its target, or for a hold keyed itself, the argument given as its key. */
function keyParamOf(use: LockUse, fn: FunctionNode, callback: ts.Symbol, checker: ts.TypeChecker): number | undefined {
  return paramDependedOn(use.key, fn, callback, checker) ?? use.targets.map((t) => paramDependedOn(t, fn, callback, checker)).find((i) => i !== undefined);
}

/**
 * True when the held-region walk sees the hold's lock by itself when it enters `fn`: a lock of
 * a package or a configured type named by a module binding, `this`, or a parameter of `fn`.
 * A lock captured from the function that made `fn` is one per call of that function, which
 * the walk would take for one lock: the caller's name for `fn` identifies it instead.
 */
function visibleToWalk(use: LockUse, fn: FunctionNode, checker: ts.TypeChecker): boolean {
  if (use.library === "shape" || use.key !== undefined || use.opaque) return false;
  return use.targets.every((t) => {
    const root = rootIdentifier(t);
    if (!root) return skipOuter(t).kind === ts.SyntaxKind.ThisKeyword || rootIsThis(t);
    const decl = symbolOf(root, checker)?.valueDeclaration;
    if (!decl) return false;
    const owner = enclosingFunction(decl);
    if (ts.isParameter(decl)) return decl.parent === fn;
    // a lock made here, per call, is its own; one looked up into a local (`map.get(key)`) is not
    if (owner === fn) return ts.isVariableDeclaration(decl) && !!decl.initializer && ts.isNewExpression(skipOuter(decl.initializer));
    return owner === undefined;
  });
}

function rootIsThis(expr: ts.Expression): boolean {
  let e = skipOuter(expr);
  while (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) e = skipOuter(e.expression);
  return e.kind === ts.SyntaxKind.ThisKeyword;
}

/** A promise-chain lock in `fn`: a promise kept outside the call is read and replaced (`tail = tail.then(…)`), and `callback` runs. */
function chainLock(fn: FunctionNode, callback: ts.Symbol, checker: ts.TypeChecker): { keyIndex: number | undefined } | undefined {
  let hit: { keyIndex: number | undefined } | undefined;
  const visit = (n: ts.Node): void => {
    if (hit) return;
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const left = skipOuter(n.left);
      const root = rootIdentifier(left);
      const decl = root && symbolOf(root, checker)?.valueDeclaration;
      const outside = root ? !!decl && !isWithin(decl, fn) : rootIsThis(left);
      if (
        outside &&
        (ts.isIdentifier(left) || ts.isPropertyAccessExpression(left) || ts.isElementAccessExpression(left)) &&
        isPromiseLike(checker.getTypeAtLocation(left))
      ) {
        const text = left.getText();
        if (readsBefore(fn, text, n))
          hit = { keyIndex: ts.isElementAccessExpression(left) ? paramDependedOn(left.argumentExpression, fn, callback, checker) : undefined };
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(fn.body!);
  return hit;
}

function isWithin(node: ts.Node, fn: FunctionNode): boolean {
  for (let p: ts.Node | undefined = node; p; p = p.parent) if (p === fn) return true;
  return false;
}

function isPromiseLike(type: ts.Type): boolean {
  const parts = type.isUnion() ? type.types : [type];
  return parts.some((t) => t.getProperty("then") !== undefined);
}

/** `text` is read (not written) somewhere in `fn` before or inside `assign`'s right side. */
function readsBefore(fn: FunctionNode, text: string, assign: ts.BinaryExpression): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found || n.pos > assign.end) return;
    if (n !== assign.left && (ts.isIdentifier(n) || ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n)) && n.getText() === text) {
      found = true;
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(fn.body!);
  return found;
}

/** The parameter of `fn` that is a callback, by index, with its symbol. */
function callbackParams(fn: FunctionNode, checker: ts.TypeChecker): { index: number; sym: ts.Symbol }[] {
  const out: { index: number; sym: ts.Symbol }[] = [];
  fn.parameters.forEach((p, index) => {
    if (!ts.isIdentifier(p.name)) return;
    const sym = checker.getSymbolAtLocation(p.name);
    if (sym && checker.getTypeAtLocation(p.name).getCallSignatures().length > 0) out.push({ index, sym });
  });
  return out;
}

function classifyAny(call: ts.CallExpression, checker: ts.TypeChecker, custom: CustomTypes): LockUse | undefined {
  return classifyKnown(call, checker, custom) ?? classifyByShape(call, checker, custom);
}

/** An exclusive Web Lock held by a wrapper is its mutex. */
function runnerKind(kind: LockKind): LockKind {
  return kind === "rwlock" ? "mutex" : kind;
}

/** How `fn` runs a callback under a hold the walk cannot see by itself, if it does. */
function runnerOf(fn: FunctionNode, checker: ts.TypeChecker, custom: CustomTypes, st: State): Runner | undefined {
  const known = st.runners.get(fn);
  if (known !== undefined) return known ?? undefined;
  if (st.busy.has(fn)) return undefined; // a recursive wrapper proves nothing more
  st.busy.add(fn);
  let found: Runner | undefined;
  try {
    for (const { index, sym } of callbackParams(fn, checker)) {
      // a scoped hold whose callback is, or runs, the parameter (anywhere in the body: it may be
      // reached through `Promise.resolve().then(() => …)`)
      const visit = (n: ts.Node): void => {
        if (found) return;
        if (ts.isCallExpression(n) && n.arguments.some((a) => mentions(a, sym, checker))) {
          const use = classifyAny(n, checker, custom);
          if (use?.mode === "scoped" && use.callback && mentions(use.callback, sym, checker) && !visibleToWalk(use, fn, checker)) {
            found = { index, kind: runnerKind(use.kind), keyIndex: keyParamOf(use, fn, sym, checker) };
            return;
          }
        }
        ts.forEachChild(n, visit);
      };
      visit(fn.body!);
      if (found) break;
      // a handle hold in the function's own flow, with the parameter called inside it
      forEachOwnNode(fn, (n) => {
        if (found || !ts.isCallExpression(n)) return;
        const use = classifyAny(n, checker, custom);
        if (use?.mode !== "handle" || !isWaited(n, checker) || !holdsInFlow(use) || visibleToWalk(use, fn, checker)) return;
        const end = handleRegion(use, fn.body!).end;
        let called = false;
        forEachOwnNode(fn, (m) => {
          if (
            !called &&
            ts.isCallExpression(m) &&
            m.pos >= n.end &&
            m.end <= end &&
            ts.isIdentifier(skipOuter(m.expression)) &&
            symbolOf(skipOuter(m.expression), checker) === sym
          )
            called = true;
        });
        if (called) found = { index, kind: runnerKind(use.kind), keyIndex: keyParamOf(use, fn, sym, checker) };
      });
      if (found) break;
      const chain = mentions(fn.body!, sym, checker) ? chainLock(fn, sym, checker) : undefined;
      if (chain) {
        found = { index, kind: "mutex", keyIndex: chain.keyIndex };
        break;
      }
    }
  } finally {
    st.busy.delete(fn);
  }
  st.runners.set(fn, found ?? null);
  return found;
}

/** A limiter: a function returned by a factory that runs its callback and counts or queues in the factory's state. */
function limiterOf(fn: FunctionNode, checker: ts.TypeChecker): Runner | undefined {
  const factory = enclosingFunction(fn);
  if (!factory) return undefined;
  const cb = callbackParams(fn, checker)[0];
  if (!cb || !mentions(fn.body!, cb.sym, checker)) return undefined;
  const sig = checker.getSignatureFromDeclaration(fn);
  if (!sig || !isPromiseLike(checker.getReturnTypeOfSignature(sig))) return undefined;
  let counts = false;
  const captured = (e: ts.Expression): boolean => {
    const root = rootIdentifier(e);
    const decl = root && symbolOf(root, checker)?.valueDeclaration;
    return !!decl && enclosingFunction(decl) === factory && !isWithin(decl, fn);
  };
  const visit = (n: ts.Node): void => {
    if (counts) return;
    if (
      (ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) &&
      (n.operator === ts.SyntaxKind.PlusPlusToken || n.operator === ts.SyntaxKind.MinusMinusToken) &&
      captured(n.operand)
    )
      counts = true;
    else if (
      ts.isBinaryExpression(n) &&
      (n.operatorToken.kind === ts.SyntaxKind.PlusEqualsToken || n.operatorToken.kind === ts.SyntaxKind.MinusEqualsToken) &&
      captured(n.left)
    )
      counts = true;
    else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(skipOuter(n.expression))) {
      const c = skipOuter(n.expression) as ts.PropertyAccessExpression;
      if ((c.name.text === "push" || c.name.text === "shift" || c.name.text === "unshift") && captured(c.expression)) counts = true;
    }
    ts.forEachChild(n, visit);
  };
  visit(fn.body!);
  return counts ? { index: cb.index, kind: "limiter" } : undefined;
}

const OBJECT_LOCKS: readonly (readonly [string, string])[] = [
  ["acquire", "release"],
  ["lock", "unlock"],
];
const POOL_ACQUIRES = new Set(["connect", "acquire", "getConnection"]);

/** True when the type's method `name` returns a promise of something with `release()`. */
function givesReleasable(type: ts.Type, name: string, checker: ts.TypeChecker): boolean {
  const prop = type.getProperty(name);
  if (!prop) return false;
  for (const sig of checker.getTypeOfSymbol(prop).getCallSignatures()) {
    const ret = checker.getReturnTypeOfSignature(sig);
    const then = ret.getProperty("then");
    if (!then) continue;
    const awaited = checker.getAwaitedType(ret);
    if (awaited && awaited.getProperty("release")) return true;
  }
  return false;
}

function returnsPromise(type: ts.Type, name: string, checker: ts.TypeChecker): boolean {
  const prop = type.getProperty(name);
  return (
    !!prop &&
    checker
      .getTypeOfSymbol(prop)
      .getCallSignatures()
      .some((s) => isPromiseLike(checker.getReturnTypeOfSignature(s)))
  );
}

/** An object lock or pool by its members, for a type no package knowledge covers. */
function classifyObject(call: ts.CallExpression, callee: ts.PropertyAccessExpression, checker: ts.TypeChecker): LockUse | undefined {
  const method = callee.name.text;
  const isLockMethod = method === "acquire" || method === "lock";
  if (!isLockMethod && !POOL_ACQUIRES.has(method) && method !== "query" && method !== "execute") return undefined;
  const type = checker.getNonNullableType(checker.getTypeAtLocation(callee.expression));
  const pkg = packageOfTypeNode(type);
  if (pkg && knowledgeOf(pkg)) return undefined; // the package's knowledge decides
  const base = { call, method, library: "shape", targets: [callee.expression] };
  const poolAcquire = [...POOL_ACQUIRES].find((m) => givesReleasable(type, m, checker));
  if (poolAcquire && type.getProperty("query")) {
    if (POOL_ACQUIRES.has(method) && call.arguments.length === 0) return { ...base, kind: "pool", mode: "handle" };
    if (method === "query" || method === "execute") return { ...base, kind: "pool", mode: "query" };
    return undefined;
  }
  if (!isLockMethod || call.arguments.some((a) => isCallable(a, checker))) return undefined;
  const pair = OBJECT_LOCKS.find(([a]) => a === method);
  if (!pair || !type.getProperty(pair[1]) || !returnsPromise(type, method, checker)) return undefined;
  const ctor = type.getSymbol()?.valueDeclaration;
  const takesCount = !!ctor && ts.isClassDeclaration(ctor) && ctor.members.some((m) => ts.isConstructorDeclaration(m) && m.parameters.length > 0);
  return { ...base, kind: takesCount ? "semaphore" : "mutex", mode: "handle", key: call.arguments[0] };
}

/** Classifies a call of a hand-written lock, limiter or pool, recognised by shape (once per call and checker). */
export function classifyByShape(call: ts.CallExpression, checker: ts.TypeChecker, custom: CustomTypes): LockUse | undefined {
  const st = stateOf(checker);
  let u = st.calls.get(call);
  if (u === undefined) st.calls.set(call, (u = shapeOf(call, checker, custom, st) ?? null));
  return u ?? undefined;
}

function shapeOf(call: ts.CallExpression, checker: ts.TypeChecker, custom: CustomTypes, st: State): LockUse | undefined {
  const callee = skipOuter(call.expression);
  if (!ts.isIdentifier(callee) && !ts.isPropertyAccessExpression(callee)) return undefined;
  if (ts.isPropertyAccessExpression(callee)) {
    const obj = classifyObject(call, callee, checker);
    if (obj) return obj;
  }
  if (!call.arguments.some((a) => isFunctionNode(skipOuter(a)) || ts.isIdentifier(skipOuter(a)) || ts.isPropertyAccessExpression(skipOuter(a))))
    return undefined;
  // a method named like no function, factory-made value or field of the program is none of
  // them: resolving it (its receiver's type) would find no candidate
  if (ts.isPropertyAccessExpression(callee)) {
    const names = candidateNames(checker, st);
    if (names && !names.has(callee.name.text)) return undefined;
  }
  for (const { fn, made } of candidates(callee, checker, st)) {
    const r = runnerOf(fn, checker, custom, st) ?? (made ? limiterOf(fn, checker) : undefined);
    const cb = r && call.arguments[r.index];
    if (r && cb && isCallable(cb, checker)) {
      const key = r.keyIndex !== undefined ? call.arguments[r.keyIndex] : undefined;
      return {
        call,
        kind: r.kind,
        library: "shape",
        mode: "scoped",
        method: ts.isPropertyAccessExpression(callee) ? callee.name.text : callee.text,
        targets: [callee],
        callback: cb,
        key,
        opaque: r.keyIndex !== undefined && !key ? true : undefined,
      };
    }
  }
  return undefined;
}
