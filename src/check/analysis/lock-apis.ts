/**
 * Recognises acquires of locks, limiters, pools and transactions: through the type checker for
 * the packages in `../knowledge/` (the package that declares the receiver's type, never a
 * variable's name), through the configuration's `locks`/`pools` for the program's own types,
 * (`classifyKnown`); `./classify-call.ts` adds the hand-written ones recognised by shape.
 */
import ts from "typescript";
import { InvalidArgTypeError } from "../../core/validate.js";
import { skipOuter } from "./own-flow.js";
import type { LockKind, LockMode, PackageKnowledge } from "../knowledge/package-knowledge.js";
import { callbackArg, isCallable, numberLiteral, optionValue, packageOfFile, packageOfTypeNode } from "../knowledge/package-knowledge.js";
import { knowledgeOf, knownMethods } from "../knowledge/index.js";
import { programOf } from "./program-of.js";

export type { LockKind, LockMode } from "../knowledge/package-knowledge.js";
export { packageOfFile } from "../knowledge/package-knowledge.js";

/** One recognised acquire. */
export interface LockUse {
  readonly call: ts.CallExpression;
  readonly kind: LockKind;
  /** The package (`async-mutex`, `pg`, `knex`, …), a configured type's name, or `shape` for one recognised by shape. */
  readonly library: string;
  readonly mode: LockMode;
  /** The method as written: `runExclusive`, `acquire`, `connect`, `query`, or the limiter's own name. */
  readonly method: string;
  /** The lock(s) acquired: one, or several for `lockAll([a, b])` (taken together, in one order). */
  readonly targets: readonly ts.Expression[];
  /** The function run while held (scoped acquires). */
  readonly callback?: ts.Expression | undefined;
  /** A read (shared) hold of a read-write lock. */
  readonly shared?: boolean | undefined;
  /** The hold is a database transaction. */
  readonly transaction?: boolean | undefined;
  /** The key of a keyed lock: holds of other keys do not conflict. */
  readonly key?: ts.Expression | undefined;
  /** A query through the package's default connection: it conflicts with any transaction of that package. */
  readonly anyInstance?: boolean | undefined;
  /** Holds from the call on without being awaited. */
  readonly immediate?: boolean | undefined;
  /** A lock known only by shape whose identity cannot be told (one made per call, a keyed map): never the same as another. */
  readonly opaque?: boolean | undefined;
}

/** The package that declares a type (`@types/pg` counts as `pg`); asyncdoctor's own sources count as `asyncdoctor`. */
export function packageOfType(type: ts.Type): string | undefined {
  return packageOfTypeNode(type);
}

interface LockType {
  readonly pkg: string;
  readonly name: string;
}

/**
 * The program's own lock and pool abstractions, named in the rules' options (`locks`, `pools`):
 * a type named in `locks` holds a lock through `runExclusive(fn)` / `acquire()` (or, for a
 * function type, for the callback it is called with: `lock(name, timeout, fn)`); one named in
 * `pools` holds a connection through `use(fn)`, `acquire()`, `connect()`, `getConnection()`,
 * `transaction(fn)`, and takes one for a statement with `query()` / `execute()`.
 */
export interface CustomTypes {
  readonly locks: readonly string[];
  readonly pools: readonly string[];
}

/** No custom types. */
export const NO_CUSTOM_TYPES: CustomTypes = { locks: [], pools: [] };

/** Reads a string-list option (`locks`, `pools`) of a rule, with a clear error for a bad value. */
export function typeNamesOption(options: Readonly<Record<string, unknown>>, name: "locks" | "pools", rule: string): readonly string[] {
  const v = options[name];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
    throw new InvalidArgTypeError(`rules.${rule}.options.${name}`, "an array of type names (strings)", v);
  return v as string[];
}

/** A symbol's declared name: `export default class PQueue` is `PQueue`, not `default`. */
function declaredName(sym: ts.Symbol): string {
  const decl = sym.declarations?.[0] as { name?: ts.Node } | undefined;
  return decl?.name && ts.isIdentifier(decl.name) ? decl.name.text : sym.getName();
}

/** A class derived from a known package's class, seen through its constructor (`User` for `class User extends Model`): `static Model`. */
function staticBase(type: ts.Type, checker: ts.TypeChecker): LockType | undefined {
  const ctor = type.getConstructSignatures()[0];
  if (!ctor) return undefined;
  let inst: ts.Type | undefined = checker.getReturnTypeOfSignature(ctor);
  for (let i = 0; inst && i < 6; i++) {
    const pkg = packageOfType(inst);
    const sym = inst.getSymbol();
    if (pkg && sym && knowledgeOf(pkg)) return { pkg, name: `static ${declaredName(sym)}` };
    inst = inst.isClassOrInterface() ? checker.getBaseTypes(inst)[0] : undefined;
  }
  return undefined;
}

/** A program class derived from a known package's class (`class Account extends Model`): the base. */
function knownBase(type: ts.Type, checker: ts.TypeChecker): LockType | undefined {
  let t: ts.Type | undefined = type.isClassOrInterface() ? checker.getBaseTypes(type)[0] : undefined;
  for (let i = 0; t && i < 6; i++) {
    const pkg = packageOfType(t);
    const sym = t.getSymbol();
    if (pkg && sym && knowledgeOf(pkg)) return { pkg, name: declaredName(sym) };
    t = t.isClassOrInterface() ? checker.getBaseTypes(t)[0] : undefined;
  }
  return undefined;
}

// what a type is as a lock depends on the type alone (and the configured types): many calls
// share a receiver type (`Array`, `Map`, the program's own classes), so it is worked out once
const lockTypes = new WeakMap<ts.TypeChecker, WeakMap<CustomTypes, Map<ts.Type, LockType | null>>>();

function lockTypeOf(expr: ts.Expression, checker: ts.TypeChecker, custom: CustomTypes = NO_CUSTOM_TYPES): LockType | undefined {
  const type = checker.getNonNullableType(checker.getTypeAtLocation(expr));
  let byCustom = lockTypes.get(checker);
  if (!byCustom) lockTypes.set(checker, (byCustom = new WeakMap()));
  let known = byCustom.get(custom);
  if (!known) byCustom.set(custom, (known = new Map<ts.Type, LockType | null>()));
  let found = known.get(type);
  if (found === undefined) known.set(type, (found = lockTypeOfType(type, checker, custom) ?? null));
  return found ?? undefined;
}

function lockTypeOfType(type: ts.Type, checker: ts.TypeChecker, custom: CustomTypes): LockType | undefined {
  // a union (`Mutex | undefined`) or an intersection (asyncdoctor's `GuardedPool<pg.Pool>` is
  // `pg.Pool & extras`): the first constituent from a known package names it
  const parts = type.isUnion() || type.isIntersection() ? type.types : [type];
  for (const t of parts) {
    const pkg = packageOfType(t);
    const sym = t.aliasSymbol ?? t.getSymbol();
    if (pkg && sym && pkg !== "asyncdoctor" && knowledgeOf(pkg)) return { pkg, name: declaredName(sym) };
  }
  for (const t of parts) {
    const pkg = packageOfType(t);
    const sym = t.aliasSymbol ?? t.getSymbol();
    if (pkg && sym && knowledgeOf(pkg)) return { pkg, name: declaredName(sym) };
  }
  if (custom.locks.length + custom.pools.length > 0) {
    for (const t of parts) {
      const sym = t.aliasSymbol ?? t.getSymbol();
      const name = sym && declaredName(sym);
      if (name && custom.pools.includes(name)) return { pkg: "custom-pool", name };
      if (name && custom.locks.includes(name)) return { pkg: "custom-lock", name };
    }
  }
  for (const t of parts) {
    const found = staticBase(t, checker) ?? knownBase(t, checker);
    if (found) return found;
  }
  return undefined;
}

function classifyCustom(
  lt: LockType,
  method: string | undefined,
  call: ts.CallExpression,
  base: Pick<LockUse, "call" | "method" | "library" | "targets">,
  checker: ts.TypeChecker,
): LockUse | undefined {
  const library = lt.name;
  if (method === undefined) {
    // a configured function type: `lock(name, timeout, fn)` holds for the callback it is given
    const cb = lt.pkg === "custom-lock" ? callbackArg(call, checker) : undefined;
    return cb ? { ...base, library, kind: "mutex", mode: "scoped", callback: cb } : undefined;
  }
  const scopedCb = isCallable(call.arguments[0], checker) ? call.arguments[0] : undefined;
  if (lt.pkg === "custom-lock") {
    if (method === "runExclusive" && scopedCb) return { ...base, library, kind: "mutex", mode: "scoped", callback: scopedCb };
    if (method === "acquire" && !scopedCb) return { ...base, library, kind: "mutex", mode: "handle" };
    return undefined;
  }
  if ((method === "use" || method === "transaction") && scopedCb)
    return { ...base, library, kind: "pool", mode: "scoped", callback: scopedCb, transaction: method === "transaction" || undefined };
  if ((method === "acquire" || method === "connect" || method === "getConnection") && call.arguments.length === 0)
    return { ...base, library, kind: "pool", mode: "handle" };
  if (method === "query" || method === "execute") return { ...base, library, kind: "pool", mode: "query" };
  return undefined;
}

const CUSTOM_METHODS = new Set(["runExclusive", "acquire", "use", "transaction", "connect", "getConnection", "query", "execute"]);

/** What the known packages that have a file in the program can recognise. */
interface Present {
  readonly methods: ReadonlySet<string>;
  /** One of them may recognise any method. */
  readonly anyMethod: boolean;
  /** One of them recognises calls of a value (`limit(fn)`). */
  readonly callsValues: boolean;
}

const presentIn = new WeakMap<ts.Program, Present>();

/**
 * What the packages present in the program can recognise, or undefined when the program is not
 * known. A type is a package's only when it is declared in one of that package's files, so a
 * package with no file in the program can recognise nothing in it.
 */
function presentKnowledge(checker: ts.TypeChecker): Present | undefined {
  const program = programOf(checker);
  if (!program) return undefined;
  let p = presentIn.get(program);
  if (!p) {
    const seen = new Set<PackageKnowledge>();
    for (const sf of program.getSourceFiles()) {
      const pkg = packageOfFile(sf.fileName);
      const k = pkg !== undefined ? knowledgeOf(pkg) : undefined;
      if (k) seen.add(k);
    }
    const list = [...seen];
    p = {
      methods: new Set(list.flatMap((k) => [...(k.methods ?? [])])),
      anyMethod: list.some((k) => k.methods === undefined),
      callsValues: list.some((k) => k.callsValues === true),
    };
    presentIn.set(program, p);
  }
  return p;
}

/** Classification through the packages' knowledge and the configured types only (no shapes). */
export function classifyKnown(call: ts.CallExpression, checker: ts.TypeChecker, custom: CustomTypes = NO_CUSTOM_TYPES): LockUse | undefined {
  const callee = skipOuter(call.expression);
  const hasCustom = custom.locks.length + custom.pools.length > 0;
  let receiver: ts.Expression;
  let method: string | undefined;
  if (ts.isPropertyAccessExpression(callee)) {
    method = callee.name.text;
    if (!knownMethods.has(method) && !(hasCustom && CUSTOM_METHODS.has(method))) return undefined;
    receiver = callee.expression;
  } else if (ts.isIdentifier(callee) || ts.isElementAccessExpression(callee)) {
    receiver = callee;
  } else {
    return undefined;
  }
  // the receiver's type (what this costs) only matters when a package in the program may
  // recognise the call: each package's knowledge lists the methods it recognises
  if (!hasCustom) {
    const present = presentKnowledge(checker);
    if (present && (method === undefined ? !present.callsValues : !present.anyMethod && !present.methods.has(method))) return undefined;
  }
  const lt = lockTypeOf(receiver, checker, custom);
  if (!lt) return undefined;
  const base = { call, method: method ?? callee.getText(), library: lt.pkg, targets: [receiver] };
  if (lt.pkg === "custom-lock" || lt.pkg === "custom-pool") return classifyCustom(lt, method, call, base, checker);
  const k = knowledgeOf(lt.pkg);
  if (!k || (method === undefined && !k.callsValues)) return undefined;
  const r = k.recognise({ call, checker, receiver, method, typeName: lt.name });
  if (!r) return undefined;
  const { targets, ...rest } = r;
  return { ...base, ...rest, targets: targets ?? base.targets };
}

/**
 * Looks through wrappers that return the same lock with another behaviour: async-mutex's
 * `withTimeout(m, ms)` and `tryAcquire(m)` are still `m`.
 */
export function unwrapLockExpression(expr: ts.Expression, checker: ts.TypeChecker): ts.Expression {
  let e = skipOuter(expr);
  while (ts.isCallExpression(e) && e.arguments[0]) {
    const callee = skipOuter(e.expression);
    if (!ts.isIdentifier(callee) || (callee.text !== "withTimeout" && callee.text !== "tryAcquire")) break;
    let sym = checker.getSymbolAtLocation(callee);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
    const pkg = sym?.declarations?.[0] && packageOfFile(sym.declarations[0].getSourceFile().fileName);
    if (pkg !== "async-mutex" && pkg !== "asyncdoctor") break;
    e = skipOuter(e.arguments[0]);
  }
  return e;
}

function optionNumber(e: ts.Expression | undefined, name: string): number | undefined {
  if (!e) return undefined;
  const x = skipOuter(e);
  if (!ts.isObjectLiteralExpression(x)) return undefined;
  for (const p of x.properties) {
    if (ts.isPropertyAssignment(p) && p.name.getText() === name) return numberLiteral(p.initializer);
  }
  return undefined;
}

/**
 * How many holders the lock admits, read from the expression that created it when it is in
 * sight (`new Semaphore(3)`, `pLimit(2)`, `new PQueue({ concurrency: 1 })`), else undefined.
 * A p-queue created without a concurrency runs everything at once: Infinity.
 */
export function capacityOf(kind: LockKind, init: ts.Expression | undefined): number | undefined {
  if (kind === "mutex" || kind === "rwlock") return 1;
  if (!init) return undefined;
  const e = skipOuter(init);
  if (!ts.isNewExpression(e) && !ts.isCallExpression(e)) return undefined;
  const args = e.arguments ?? [];
  switch (kind) {
    case "semaphore":
      return numberLiteral(args[0]);
    case "limiter":
      return numberLiteral(args[0]) ?? optionNumber(args[0], "concurrency");
    case "queue":
      return args[0] ? optionNumber(args[0], "concurrency") : Infinity;
    case "pool":
      return optionNumber(args[args.length - 1], "max") ?? optionNumber(args[0], "connectionLimit") ?? optionNumber(optionValue(args[0], "pool"), "max");
  }
}

const RELEASE_METHODS = new Set(["release", "dispose", "unlock", "commit", "rollback", "exec", "discard"]);
const LOCK_RELEASE_METHODS = new Set(["release", "releaseConnection", "destroy", "unlock"]);

/** The names a handle acquire binds: `release`, `[, release]`, `client`. */
function boundNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  const out: string[] = [];
  for (const el of name.elements) if (!ts.isOmittedExpression(el)) out.push(...boundNames(el.name));
  return out;
}

/** Where a handle acquire's hold ends, and the names bound to its handle (the held client of a pool). */
export interface HandleRegion {
  readonly end: number;
  readonly names: readonly string[];
}

/**
 * True when a handle acquire's hold is visible in its flow: stored in a local, `using`, or taken
 * as a statement of its own (released later through the lock). An acquire chained with
 * `.then(release => …)` holds inside that callback, which is another flow.
 */
export function holdsInFlow(use: LockUse): boolean {
  let cur: ts.Node = use.call;
  while (cur.parent && (ts.isAwaitExpression(cur.parent) || ts.isParenthesizedExpression(cur.parent) || ts.isAsExpression(cur.parent))) cur = cur.parent;
  const p = cur.parent;
  return (
    !!p &&
    ((ts.isVariableDeclaration(p) && p.initializer === cur) ||
      ts.isExpressionStatement(p) ||
      (ts.isBinaryExpression(p) && p.right === cur && p.operatorToken.kind === ts.SyntaxKind.EqualsToken))
  );
}

/**
 * The hold of a handle acquire, in source positions of its flow: from the acquire to the first
 * release after it (the handle called or `.release()`d, the lock or pool's `release(…)`,
 * a transaction's commit/rollback), to the end of the block for `using`, else to the end of the flow.
 */
export function handleRegion(use: LockUse, flowRoot: ts.Node): HandleRegion {
  let cur: ts.Node = use.call;
  while (cur.parent && (ts.isAwaitExpression(cur.parent) || ts.isParenthesizedExpression(cur.parent) || ts.isAsExpression(cur.parent))) cur = cur.parent;
  const decl = cur.parent && ts.isVariableDeclaration(cur.parent) && cur.parent.initializer === cur ? cur.parent : undefined;
  const names = decl ? boundNames(decl.name) : [];
  const scoping: number = decl && ts.isVariableDeclarationList(decl.parent) ? decl.parent.flags & ts.NodeFlags.BlockScoped : 0;
  if (decl && (scoping === Number(ts.NodeFlags.Using) || scoping === Number(ts.NodeFlags.AwaitUsing))) {
    const block = decl.parent.parent.parent;
    return { end: block ? block.end : flowRoot.end, names };
  }
  const target = use.targets[0]?.getText();
  let end = flowRoot.end;
  const visit = (n: ts.Node): void => {
    if (end !== flowRoot.end) return;
    if (ts.isCallExpression(n) && n.pos >= use.call.end) {
      const c = skipOuter(n.expression);
      if (ts.isIdentifier(c) && names.includes(c.text)) end = n.getStart();
      else if (ts.isPropertyAccessExpression(c)) {
        const obj = skipOuter(c.expression).getText();
        if ((names.includes(obj) && RELEASE_METHODS.has(c.name.text)) || (obj === target && LOCK_RELEASE_METHODS.has(c.name.text))) end = n.getStart();
      } else if (ts.isElementAccessExpression(c) && names.includes(skipOuter(c.expression).getText())) end = n.getStart();
      if (end !== flowRoot.end) return;
    }
    ts.forEachChild(n, visit);
  };
  visit(flowRoot);
  return { end, names };
}
