/**
 * The contract of one package's knowledge: given a call on (or of) a value whose type that
 * package declares, say whether it acquires a lock, a limiter slot, a pool connection or a
 * transaction, and how it is held. One file per package implements it; `index.ts` lists them.
 * Recognition is by type (the package that declares the receiver's type), never by names.
 */
import ts from "typescript";
import { isFunctionNode, skipOuter } from "../analysis/own-flow.js";

/** What kind of thing is acquired. */
export type LockKind = "mutex" | "semaphore" | "rwlock" | "limiter" | "queue" | "pool";

/**
 * How it is held: `scoped` for the duration of a callback (`runExclusive(fn)`, `use(fn)`,
 * `limit(fn)`); `handle` from the acquire until a release (`acquire()` … `release()`);
 * `query` for one statement run by a pool on a connection of its own (`pool.query`).
 */
export type LockMode = "scoped" | "handle" | "query";

/** What a package's knowledge says of one call. */
export interface Recognised {
  readonly kind: LockKind;
  readonly mode: LockMode;
  /** The function run while held (scoped acquires). */
  readonly callback?: ts.Expression | undefined;
  /** A read (shared) hold of a read-write lock. */
  readonly shared?: boolean | undefined;
  /** The lock(s) acquired, when not the receiver: the client a query chain starts from, `lockAll`'s list. */
  readonly targets?: readonly ts.Expression[] | undefined;
  /** The hold is a database transaction: queries on its client's pool go outside it. */
  readonly transaction?: boolean | undefined;
  /** A keyed lock (`asyncLock.acquire(key, fn)`, `navigator.locks.request(name, fn)`): holds on other keys do not conflict. */
  readonly key?: ts.Expression | undefined;
  /**
   * A query that goes through the package's default connection rather than a client value
   * (a Sequelize model method without `{ transaction }`): it conflicts with any transaction of
   * the same package.
   */
  readonly anyInstance?: boolean | undefined;
  /** A handle acquire that holds from the call on without being awaited (ioredis's `multi()`). */
  readonly immediate?: boolean | undefined;
}

/** The call being recognised, with the type it was found on. */
export interface CallSite {
  readonly call: ts.CallExpression;
  readonly checker: ts.TypeChecker;
  /** The receiver of a method call (`m` in `m.acquire()`), or the callee of a plain call (`limit` in `limit(fn)`). */
  readonly receiver: ts.Expression;
  /** The method name; undefined for a call of the value itself. */
  readonly method: string | undefined;
  /** The declared name of the receiver's type (`Mutex`, `Knex`, `PrismaClient`). */
  readonly typeName: string;
}

/** One package's knowledge. */
export interface PackageKnowledge {
  /** The package as users know it (for docs and findings). */
  readonly name: string;
  /** The package names whose declarations it covers, as they appear under node_modules (`@types/` stripped). */
  readonly packages: readonly string[];
  /** The method names it may recognise, to skip type lookups for other calls; undefined when any may be. */
  readonly methods?: ReadonlySet<string> | undefined;
  /** True when it recognises calls of a value (`limit(fn)`, `db("t")`), not only method calls. */
  readonly callsValues?: boolean | undefined;
  /**
   * Types (by declared name; their subclasses count) that have a `destroy()` or `release()` that
   * is not a close: a database row (a Sequelize `Model` from `User.create(…)`: `destroy()`
   * deletes it), a lock (async-mutex's `Mutex`: `release()` gives back a hold). unclosed-resource
   * leaves them alone.
   */
  readonly notResources?: readonly string[] | undefined;
  /**
   * Events its emitters send on entering a state, not replayed (p-queue's `"idle"`): a wait for
   * one started when the emitter is already in that state never ends, however new the emitter.
   */
  readonly stateEvents?: readonly string[] | undefined;
  /**
   * Methods of its locks (by the receiver's declared type name) that wait until the lock is free
   * without taking it (async-mutex's `waitForUnlock()`): a holder that waits on one waits for itself.
   */
  readonly unlockWaits?: Readonly<Record<string, readonly string[]>> | undefined;
  recognise(site: CallSite): Recognised | undefined;
}

/** True when `arg` is a function: written inline, or a value with call signatures. */
export function isCallable(arg: ts.Expression | undefined, checker: ts.TypeChecker): boolean {
  if (!arg) return false;
  const e = skipOuter(arg);
  return isFunctionNode(e) || checker.getTypeAtLocation(e).getCallSignatures().length > 0;
}

/** The first argument from `from` on that is a function, with its index. */
export function callbackArg(call: ts.CallExpression, checker: ts.TypeChecker, from = 0): ts.Expression | undefined {
  for (let i = from; i < call.arguments.length; i++) if (isCallable(call.arguments[i], checker)) return call.arguments[i];
  return undefined;
}

/** The package that declares a type, from its declarations' paths. */
export function packageOfTypeNode(type: ts.Type): string | undefined {
  const sym = type.aliasSymbol ?? type.getSymbol();
  for (const decl of sym?.declarations ?? []) {
    const p = packageOfFile(decl.getSourceFile().fileName);
    if (p) return p;
  }
  return undefined;
}

/**
 * The package a file belongs to, from its path: `node_modules/@types/pg/…` is `pg`, Prisma's
 * generated `node_modules/.prisma/client` is `.prisma`, TypeScript's DOM lib is `lib.dom`
 * (Web Locks), asyncdoctor's own primitives are `asyncdoctor`.
 */
export function packageOfFile(file: string): string | undefined {
  const m = /\/node_modules\/(?:@types\/)?((?:@[^/]+\/)?[^/]+)\//.exec(file);
  if (m) {
    if (m[1] === "typescript" && /\/lib\/lib\.dom\.d\.ts$/.test(file)) return "lib.dom";
    return m[1];
  }
  if (/\/lib\.dom\.d\.ts$/.test(file)) return "lib.dom";
  // asyncdoctor checking its own demos and sources: the primitives live in src/sync and src/compat
  if (/\/src\/(?:sync|compat)\/[^/]+$/.test(file)) return "asyncdoctor";
  return undefined;
}

/**
 * The client a query chain starts from: `this.db.selectFrom("t").where(…)` → `this.db`. Walks
 * down property accesses and calls while the inner value's type still comes from one of
 * `packages`, so a repository from `dataSource.getRepository(User)` leads back to `dataSource`.
 */
export function clientRoot(expr: ts.Expression, checker: ts.TypeChecker, packages: readonly string[]): ts.Expression {
  let e = skipOuter(expr);
  for (;;) {
    let inner: ts.Expression | undefined;
    if (ts.isPropertyAccessExpression(e)) inner = e.expression;
    else if (ts.isCallExpression(e)) inner = skipOuter(e.expression);
    if (!inner) return e;
    inner = skipOuter(inner);
    // `x.m(…)`: the callee `x.m` leads to `x`
    const candidate = ts.isCallExpression(e) && ts.isPropertyAccessExpression(inner) ? skipOuter(inner.expression) : inner;
    const pkg = packageOfTypeNode(checker.getNonNullableType(checker.getTypeAtLocation(candidate)));
    if (!pkg || !packages.includes(pkg)) return e;
    e = candidate;
  }
}

/** A literal number (`3`, `Infinity`), else undefined. */
export function numberLiteral(e: ts.Expression | undefined): number | undefined {
  if (!e) return undefined;
  const x = skipOuter(e);
  if (ts.isNumericLiteral(x)) return Number(x.text);
  if (ts.isIdentifier(x) && x.text === "Infinity") return Infinity;
  return undefined;
}

/** The initializer of property `name` in an object literal, else undefined. */
export function optionValue(e: ts.Expression | undefined, name: string): ts.Expression | undefined {
  const x = e && skipOuter(e);
  if (!x || !ts.isObjectLiteralExpression(x)) return undefined;
  for (const p of x.properties) {
    if (ts.isPropertyAssignment(p) && p.name.getText() === name) return p.initializer;
    if (ts.isShorthandPropertyAssignment(p) && p.name.text === name) return p.name;
  }
  return undefined;
}

/** True when an object-literal argument names property `name`, or the argument is not a literal (it may). */
export function mayHaveOption(e: ts.Expression | undefined, name: string): boolean {
  const x = e && skipOuter(e);
  if (!x) return false;
  if (!ts.isObjectLiteralExpression(x)) return true;
  return x.properties.some((p) => ts.isSpreadAssignment(p) || (p.name !== undefined && p.name.getText() === name));
}
