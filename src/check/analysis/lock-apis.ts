/**
 * Recognises the acquire, hold and release APIs of the lock, limiter and pool libraries:
 * asyncdoctor's own primitives, async-mutex, p-limit, p-queue, generic-pool, pg, mysql2 and
 * knex. Recognition goes through the type checker (the package that declares the receiver's
 * type), never through variable names, so a `lock` that is not a lock is never mistaken for one.
 */
import ts from "typescript";
import { InvalidArgTypeError } from "../../core/validate.js";
import { isFunctionNode, skipOuter } from "./own-flow.js";

/** What kind of thing is acquired. */
export type LockKind = "mutex" | "semaphore" | "rwlock" | "limiter" | "queue" | "pool";

/**
 * How it is held: `scoped` for the duration of a callback (`runExclusive(fn)`, `use(fn)`,
 * `limit(fn)`); `handle` from the acquire until a release (`acquire()` … `release()`);
 * `query` for one statement run by a pool on a connection of its own (`pool.query`).
 */
export type LockMode = "scoped" | "handle" | "query";

/** One recognised acquire. */
export interface LockUse {
  readonly call: ts.CallExpression;
  readonly kind: LockKind;
  /** The package: `asyncdoctor`, `async-mutex`, `p-limit`, `p-queue`, `generic-pool`, `pg`, `mysql2`, `knex`. */
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
}

/** The package that declares a type (`@types/pg` counts as `pg`); asyncdoctor's own sources count as `asyncdoctor`. */
export function packageOfType(type: ts.Type): string | undefined {
  const sym = type.aliasSymbol ?? type.getSymbol();
  for (const decl of sym?.declarations ?? []) {
    const p = packageOfFile(decl.getSourceFile().fileName);
    if (p) return p;
  }
  return undefined;
}

/** The package a file belongs to, from its path. */
export function packageOfFile(file: string): string | undefined {
  const m = /\/node_modules\/(?:@types\/)?((?:@[^/]+\/)?[^/]+)\//.exec(file);
  if (m) return m[1];
  // asyncdoctor checking its own demos and sources: the primitives live in src/sync and src/compat
  if (/\/src\/(?:sync|compat)\/[^/]+$/.test(file)) return "asyncdoctor";
  return undefined;
}

interface LockType {
  readonly pkg: string;
  readonly name: string;
}

/**
 * The program's own lock and pool abstractions, named in the rules' options (`locks`, `pools`):
 * a type named in `locks` holds a lock through `runExclusive(fn)` / `acquire()`; one named in
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
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new InvalidArgTypeError(`rules.${rule}.options.${name}`, "an array of type names (strings)", v);
  return v as string[];
}

function lockTypeOf(expr: ts.Expression, checker: ts.TypeChecker, custom: CustomTypes = NO_CUSTOM_TYPES): LockType | undefined {
  const type = checker.getNonNullableType(checker.getTypeAtLocation(expr));
  // a union (`Mutex | undefined`) or an intersection (asyncdoctor's `GuardedPool<pg.Pool>` is
  // `pg.Pool & extras`): the first constituent from a known package names it
  const parts = type.isUnion() || type.isIntersection() ? type.types : [type];
  for (const t of parts) {
    const pkg = packageOfType(t);
    const sym = t.aliasSymbol ?? t.getSymbol();
    if (pkg && sym && pkg !== "asyncdoctor") return { pkg, name: declaredName(sym) };
  }
  for (const t of parts) {
    const pkg = packageOfType(t);
    const sym = t.aliasSymbol ?? t.getSymbol();
    if (pkg && sym) return { pkg, name: declaredName(sym) };
  }
  if (custom.locks.length + custom.pools.length > 0) {
    for (const t of parts) {
      const sym = t.aliasSymbol ?? t.getSymbol();
      const name = sym && declaredName(sym);
      if (name && custom.pools.includes(name)) return { pkg: "custom-pool", name };
      if (name && custom.locks.includes(name)) return { pkg: "custom-lock", name };
    }
  }
  return undefined;
}

/** A symbol's declared name: `export default class PQueue` is `PQueue`, not `default`. */
function declaredName(sym: ts.Symbol): string {
  const decl = sym.declarations?.[0] as { name?: ts.Node } | undefined;
  return decl?.name && ts.isIdentifier(decl.name) ? decl.name.text : sym.getName();
}

// asyncdoctor's primitives: the method names of its RWLock and Pool, and their likely aliases; a
// call is scoped when it is given the function to run, a handle acquire otherwise
const OWN_READ = ["runRead", "read", "runShared", "acquireRead", "readLock"];
const OWN_WRITE = ["runWrite", "write", "runExclusive", "acquireWrite", "writeLock", "acquire", "use"];
const OWN_KIND: Readonly<Record<string, LockKind>> = { Mutex: "mutex", Semaphore: "semaphore", RWLock: "rwlock", Pool: "pool" };

function isCallable(arg: ts.Expression | undefined, checker: ts.TypeChecker): boolean {
  if (!arg) return false;
  const e = skipOuter(arg);
  return isFunctionNode(e) || checker.getTypeAtLocation(e).getCallSignatures().length > 0;
}

function classifyOwn(typeName: string, method: string, call: ts.CallExpression, checker: ts.TypeChecker): Pick<LockUse, "kind" | "mode" | "callback" | "shared"> | undefined {
  const kind = OWN_KIND[typeName];
  if (!kind) return undefined;
  const shared = OWN_READ.includes(method);
  if (!shared && !OWN_WRITE.includes(method)) return undefined;
  if (shared && kind !== "rwlock") return undefined;
  const cb = call.arguments[0];
  return isCallable(cb, checker) ? { kind, mode: "scoped", callback: cb, shared: kind === "rwlock" ? shared : undefined } : { kind, mode: "handle", shared: kind === "rwlock" ? shared : undefined };
}

function classifyCustom(
  lt: LockType,
  method: string,
  call: ts.CallExpression,
  base: Pick<LockUse, "call" | "method" | "library" | "targets">,
  checker: ts.TypeChecker,
): LockUse | undefined {
  const library = lt.name;
  const scopedCb = isCallable(call.arguments[0], checker) ? call.arguments[0] : undefined;
  if (lt.pkg === "custom-lock") {
    if (method === "runExclusive" && scopedCb) return { ...base, library, kind: "mutex", mode: "scoped", callback: scopedCb };
    if (method === "acquire" && !scopedCb) return { ...base, library, kind: "mutex", mode: "handle" };
    return undefined;
  }
  if ((method === "use" || method === "transaction") && scopedCb) return { ...base, library, kind: "pool", mode: "scoped", callback: scopedCb };
  if ((method === "acquire" || method === "connect" || method === "getConnection") && call.arguments.length === 0) return { ...base, library, kind: "pool", mode: "handle" };
  if (method === "query" || method === "execute") return { ...base, library, kind: "pool", mode: "query" };
  return undefined;
}

const KNEX_QUERY_METHODS = new Set([
  "select", "insert", "update", "delete", "del", "raw", "from", "table", "into", "with", "where", "first",
  "pluck", "count", "max", "min", "sum", "avg", "join", "increment", "decrement", "truncate", "upsert", "queryBuilder",
]);

/** `db("t").where(…).transacting(trx)`: the chain runs on the transaction's connection. */
function chainUsesTransaction(call: ts.CallExpression): boolean {
  let cur: ts.Node = call;
  for (;;) {
    const p = cur.parent;
    if (p && ts.isPropertyAccessExpression(p) && p.expression === cur && p.parent && ts.isCallExpression(p.parent) && p.parent.expression === p) {
      if (p.name.text === "transacting") return true;
      cur = p.parent;
      continue;
    }
    return false;
  }
}

function fnArg(call: ts.CallExpression, i: number): ts.Expression | undefined {
  return call.arguments[i];
}

/** Classifies a call as an acquire of a recognised lock, limiter or pool, or undefined. */
export function classifyCall(call: ts.CallExpression, checker: ts.TypeChecker, custom: CustomTypes = NO_CUSTOM_TYPES): LockUse | undefined {
  const callee = skipOuter(call.expression);
  if (ts.isPropertyAccessExpression(callee)) {
    const method = callee.name.text;
    if (!METHODS.has(method)) return undefined;
    const recv = callee.expression;
    const lt = lockTypeOf(recv, checker, custom);
    if (!lt) return undefined;
    const base = { call, method, library: lt.pkg, targets: [recv] };
    if (lt.pkg === "custom-lock" || lt.pkg === "custom-pool") return classifyCustom(lt, method, call, base, checker);
    if (lt.pkg === "asyncdoctor") {
      const own = classifyOwn(lt.name, method, call, checker);
      if (own) return { ...base, ...own };
    }
    const scoped = (kind: LockKind, cbIndex = 0, shared?: boolean): LockUse => ({ ...base, kind, mode: "scoped", callback: fnArg(call, cbIndex), shared });
    const handle = (kind: LockKind, shared?: boolean): LockUse => ({ ...base, kind, mode: "handle", shared });
    switch (`${lt.pkg}:${lt.name}:${method}`) {
      case "asyncdoctor:Mutex:runExclusive":
      case "async-mutex:Mutex:runExclusive":
      case "async-mutex:MutexInterface:runExclusive":
        return scoped("mutex");
      case "asyncdoctor:Mutex:acquire":
      case "async-mutex:Mutex:acquire":
      case "async-mutex:MutexInterface:acquire":
        return handle("mutex");
      case "asyncdoctor:Semaphore:runExclusive":
      case "async-mutex:Semaphore:runExclusive":
      case "async-mutex:SemaphoreInterface:runExclusive":
        return scoped("semaphore");
      case "asyncdoctor:Semaphore:acquire":
      case "async-mutex:Semaphore:acquire":
      case "async-mutex:SemaphoreInterface:acquire":
        return handle("semaphore");
      case "asyncdoctor:RWLock:runWrite":
      case "asyncdoctor:RWLock:runExclusive":
        return scoped("rwlock", 0, false);
      case "asyncdoctor:RWLock:runRead":
        return scoped("rwlock", 0, true);
      case "asyncdoctor:RWLock:acquireWrite":
      case "asyncdoctor:RWLock:acquire":
        return handle("rwlock", false);
      case "asyncdoctor:RWLock:acquireRead":
        return handle("rwlock", true);
      case "asyncdoctor:Pool:use":
      case "generic-pool:Pool:use":
        return scoped("pool");
      case "asyncdoctor:Pool:acquire":
      case "generic-pool:Pool:acquire":
        return handle("pool");
      case "p-limit:LimitFunction:map":
        return scoped("limiter", 1);
      case "p-queue:PQueue:add":
        return scoped("queue");
      case "pg:Pool:use": // asyncdoctor's guardPool(pool) adds use(fn) to a pg Pool
        return call.arguments.length > 0 ? scoped("pool") : undefined;
      case "pg:Pool:connect":
        return call.arguments.length === 0 ? handle("pool") : undefined;
      case "pg:Pool:query":
      case "mysql2:Pool:query":
      case "mysql2:Pool:execute":
        return { ...base, kind: "pool", mode: "query" };
      case "mysql2:Pool:getConnection":
        return call.arguments.length === 0 ? handle("pool") : undefined;
      case "knex:Knex:transaction": {
        const cb = fnArg(call, 0);
        return cb && isFunctionNode(skipOuter(cb)) ? scoped("pool") : cb ? undefined : handle("pool");
      }
      default:
        if (lt.pkg === "knex" && lt.name === "Knex" && KNEX_QUERY_METHODS.has(method) && !chainUsesTransaction(call)) {
          return { ...base, kind: "pool", mode: "query" };
        }
        return undefined;
    }
  }
  const lt = lockTypeOf(callee, checker);
  if ((lt?.pkg === "p-limit" || lt?.pkg === "asyncdoctor") && lt.name === "LimitFunction") {
    return { call, kind: "limiter", library: lt.pkg, mode: "scoped", method: callee.getText(), targets: [callee], callback: fnArg(call, 0) };
  }
  if (lt?.pkg === "knex" && lt.name === "Knex" && !chainUsesTransaction(call)) {
    return { call, kind: "pool", library: "knex", mode: "query", method: callee.getText(), targets: [callee] };
  }
  if (ts.isIdentifier(callee) && isLockAll(callee, checker)) {
    const list = call.arguments[0] && skipOuter(call.arguments[0]);
    if (!list || !ts.isArrayLiteralExpression(list)) return undefined;
    const targets = list.elements.filter((e): e is ts.Expression => !ts.isSpreadElement(e) && !ts.isOmittedExpression(e));
    const cb = fnArg(call, 1);
    const scopedCb = cb && (isFunctionNode(skipOuter(cb)) || ts.isIdentifier(skipOuter(cb))) ? cb : undefined;
    return { call, kind: "mutex", library: "asyncdoctor", mode: scopedCb ? "scoped" : "handle", method: "lockAll", targets, callback: scopedCb };
  }
  return undefined;
}

const METHODS = new Set([
  ...OWN_READ, ...OWN_WRITE,
  "runExclusive", "acquire", "runRead", "runWrite", "acquireRead", "acquireWrite", "use", "map", "add", "connect",
  "query", "execute", "getConnection", "transaction", ...KNEX_QUERY_METHODS,
]);

function isLockAll(id: ts.Identifier, checker: ts.TypeChecker): boolean {
  let sym = checker.getSymbolAtLocation(id);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  return sym?.getName() === "lockAll" && (sym.declarations ?? []).some((d) => packageOfFile(d.getSourceFile().fileName) === "asyncdoctor");
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

function numberLiteral(e: ts.Expression | undefined): number | undefined {
  if (!e) return undefined;
  const x = skipOuter(e);
  if (ts.isNumericLiteral(x)) return Number(x.text);
  if (ts.isIdentifier(x) && x.text === "Infinity") return Infinity;
  return undefined;
}

function optionValue(e: ts.Expression | undefined, name: string): ts.Expression | undefined {
  const x = e && skipOuter(e);
  if (!x || !ts.isObjectLiteralExpression(x)) return undefined;
  for (const p of x.properties) if (ts.isPropertyAssignment(p) && p.name.getText() === name) return p.initializer;
  return undefined;
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

const RELEASE_METHODS = new Set(["release", "dispose", "unlock", "commit", "rollback"]);
const LOCK_RELEASE_METHODS = new Set(["release", "releaseConnection", "destroy"]);

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
  return !!p && ((ts.isVariableDeclaration(p) && p.initializer === cur) || ts.isExpressionStatement(p) || (ts.isBinaryExpression(p) && p.right === cur && p.operatorToken.kind === ts.SyntaxKind.EqualsToken));
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
  const scoping = decl && ts.isVariableDeclarationList(decl.parent) ? decl.parent.flags & ts.NodeFlags.BlockScoped : 0;
  if (decl && (scoping === ts.NodeFlags.Using || scoping === ts.NodeFlags.AwaitUsing)) {
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
