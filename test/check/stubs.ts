/**
 * Type stubs of the lock, limiter and pool libraries the lock rules recognise, written after each
 * library's published API surface, for in-memory rule test cases:
 * `files: stubs("async-mutex", "pg")`.
 */
import type { CaseFiles } from "./rule-tester.js";

const pkg = (name: string, types = "index.d.ts") => JSON.stringify({ name, types });

const library: Readonly<Record<string, CaseFiles>> = {
  asyncdoctor: {
    "node_modules/asyncdoctor/package.json": pkg("asyncdoctor"),
    "node_modules/asyncdoctor/index.d.ts": `
export interface AcquireOptions { signal?: AbortSignal; timeout?: number }
export interface Release extends Disposable { release(): void }
export declare class Mutex {
  constructor(options?: { name?: string });
  readonly name: string;
  readonly isLocked: boolean;
  acquire(options?: AcquireOptions): Promise<Release>;
  tryAcquire(): Release | undefined;
  runExclusive<T>(fn: () => T | Promise<T>, options?: AcquireOptions): Promise<T>;
}
export declare class Semaphore {
  constructor(permits: number, options?: { name?: string });
  readonly available: number;
  acquire(options?: AcquireOptions): Promise<Release>;
  tryAcquire(): Release | undefined;
  runExclusive<T>(fn: () => T | Promise<T>, options?: AcquireOptions): Promise<T>;
}
export declare class RWLock {
  constructor(options?: { name?: string });
  acquireRead(options?: AcquireOptions): Promise<Release>;
  acquireWrite(options?: AcquireOptions): Promise<Release>;
  runRead<T>(fn: () => T | Promise<T>): Promise<T>;
  runWrite<T>(fn: () => T | Promise<T>): Promise<T>;
}
export interface PoolOptions<R> { create(): R | Promise<R>; destroy?(r: R): void | Promise<void>; max: number; name?: string }
export interface Lease<R> extends Release { readonly resource: R }
export declare class Pool<R> {
  constructor(options: PoolOptions<R>);
  acquire(options?: AcquireOptions): Promise<Lease<R>>;
  use<T>(fn: (resource: R) => T | Promise<T>, options?: AcquireOptions): Promise<T>;
}
export declare class Shared<T> {
  constructor(initial: T, options?: { name?: string });
  get(): T;
  set(value: T): void;
  update(fn: (current: T) => T | Promise<T>): Promise<T>;
}
export interface GuardedPoolExtras<C> {
  readonly guard: Pool<C>;
  use<T>(fn: (client: C) => T | PromiseLike<T>, options?: AcquireOptions): Promise<T>;
}
export type GuardedPool<P> = P & GuardedPoolExtras<P extends { connect(): Promise<infer C> } ? C : never>;
export declare function guardPool<P extends object>(pool: P, options?: { name?: string; max?: number }): GuardedPool<P>;
export declare function lockAll(locks: readonly (Mutex | Semaphore)[], options?: AcquireOptions): Promise<Release>;
export declare function lockAll<T>(locks: readonly (Mutex | Semaphore)[], fn: () => T | Promise<T>): Promise<T>;
`,
  },
  "async-mutex": {
    "node_modules/async-mutex/package.json": pkg("async-mutex"),
    "node_modules/async-mutex/index.d.ts": `
export interface MutexInterface {
  acquire(priority?: number): Promise<MutexInterface.Releaser>;
  runExclusive<T>(callback: MutexInterface.Worker<T>, priority?: number): Promise<T>;
  waitForUnlock(priority?: number): Promise<void>;
  isLocked(): boolean;
  release(): void;
  cancel(): void;
}
export declare namespace MutexInterface {
  interface Releaser { (): void }
  interface Worker<T> { (): Promise<T> | T }
}
export interface SemaphoreInterface {
  acquire(weight?: number, priority?: number): Promise<[number, SemaphoreInterface.Releaser]>;
  runExclusive<T>(callback: SemaphoreInterface.Worker<T>, weight?: number, priority?: number): Promise<T>;
  waitForUnlock(weight?: number, priority?: number): Promise<void>;
  isLocked(): boolean;
  getValue(): number;
  setValue(value: number): void;
  release(weight?: number): void;
  cancel(): void;
}
export declare namespace SemaphoreInterface {
  interface Releaser { (): void }
  interface Worker<T> { (value: number): Promise<T> | T }
}
export declare class Mutex implements MutexInterface {
  constructor(cancelError?: Error);
  acquire(priority?: number): Promise<MutexInterface.Releaser>;
  runExclusive<T>(callback: MutexInterface.Worker<T>, priority?: number): Promise<T>;
  waitForUnlock(priority?: number): Promise<void>;
  isLocked(): boolean;
  release(): void;
  cancel(): void;
}
export declare class Semaphore implements SemaphoreInterface {
  constructor(value: number, cancelError?: Error);
  acquire(weight?: number, priority?: number): Promise<[number, SemaphoreInterface.Releaser]>;
  runExclusive<T>(callback: SemaphoreInterface.Worker<T>, weight?: number, priority?: number): Promise<T>;
  waitForUnlock(weight?: number, priority?: number): Promise<void>;
  isLocked(): boolean;
  getValue(): number;
  setValue(value: number): void;
  release(weight?: number): void;
  cancel(): void;
}
export declare function withTimeout(mutex: MutexInterface, timeout: number, timeoutError?: Error): MutexInterface;
export declare function withTimeout(semaphore: SemaphoreInterface, timeout: number, timeoutError?: Error): SemaphoreInterface;
export declare function tryAcquire(mutex: MutexInterface, alreadyAcquiredError?: Error): MutexInterface;
export declare function tryAcquire(semaphore: SemaphoreInterface, alreadyAcquiredError?: Error): SemaphoreInterface;
export declare const E_TIMEOUT: Error;
export declare const E_ALREADY_LOCKED: Error;
export declare const E_CANCELED: Error;
`,
  },
  "p-limit": {
    "node_modules/p-limit/package.json": pkg("p-limit"),
    "node_modules/p-limit/index.d.ts": `
export type LimitFunction = {
  readonly activeCount: number;
  readonly pendingCount: number;
  concurrency: number;
  clearQueue: () => void;
  map: <Input, ReturnType>(iterable: Iterable<Input>, mapperFunction: (input: Input, index: number) => PromiseLike<ReturnType> | ReturnType) => Promise<ReturnType[]>;
  <Arguments extends unknown[], ReturnType>(function_: (...arguments_: Arguments) => PromiseLike<ReturnType> | ReturnType, ...arguments_: Arguments): Promise<ReturnType>;
};
export type Options = { readonly concurrency: number; readonly rejectOnClear?: boolean };
export default function pLimit(concurrency: number | Options): LimitFunction;
export function limitFunction<Arguments extends unknown[], ReturnType>(function_: (...arguments_: Arguments) => PromiseLike<ReturnType>, options: Options): (...arguments_: Arguments) => Promise<ReturnType>;
`,
  },
  "p-queue": {
    "node_modules/p-queue/package.json": pkg("p-queue"),
    "node_modules/p-queue/index.d.ts": `
export type Task<T> = (options: { signal?: AbortSignal }) => PromiseLike<T> | T;
export type QueueAddOptions = { priority?: number; id?: string; signal?: AbortSignal; timeout?: number };
export type Options = { concurrency?: number; autoStart?: boolean; timeout?: number; intervalCap?: number; interval?: number };
export default class PQueue {
  constructor(options?: Options);
  get concurrency(): number;
  set concurrency(n: number);
  add<T>(function_: Task<T>, options?: QueueAddOptions): Promise<T>;
  addAll<T>(functions: ReadonlyArray<Task<T>>, options?: QueueAddOptions): Promise<T[]>;
  start(): this;
  pause(): void;
  clear(): void;
  onEmpty(): Promise<void>;
  onIdle(): Promise<void>;
  on(event: "active" | "idle" | "empty" | "add" | "next" | "completed" | "error", listener: (...args: unknown[]) => void): this;
  once(event: "active" | "idle" | "empty" | "add" | "next" | "completed" | "error", listener: (...args: unknown[]) => void): this;
  get size(): number;
  get pending(): number;
}
`,
  },
  "generic-pool": {
    "node_modules/generic-pool/package.json": pkg("generic-pool"),
    "node_modules/generic-pool/index.d.ts": `
export interface Factory<T> { create(): Promise<T>; destroy(client: T): Promise<void>; validate?(client: T): Promise<boolean> }
export interface Options { max?: number; min?: number; acquireTimeoutMillis?: number; testOnBorrow?: boolean }
export declare class Pool<T> {
  spareResourceCapacity: number;
  size: number;
  available: number;
  borrowed: number;
  pending: number;
  max: number;
  min: number;
  start(): void;
  acquire(priority?: number): Promise<T>;
  release(resource: T): Promise<void>;
  destroy(resource: T): Promise<void>;
  drain(): Promise<void>;
  clear(): Promise<void>;
  use<U>(cb: (resource: T) => U | Promise<U>): Promise<U>;
  isBorrowedResource(resource: T): boolean;
  ready(): Promise<void>;
}
export declare function createPool<T>(factory: Factory<T>, opts?: Options): Pool<T>;
`,
  },
  pg: {
    "node_modules/pg/package.json": pkg("pg"),
    "node_modules/pg/index.d.ts": `
export interface QueryResult<R = any> { rows: R[]; rowCount: number | null; command: string }
export interface PoolConfig { max?: number; connectionString?: string; idleTimeoutMillis?: number; connectionTimeoutMillis?: number }
export declare class ClientBase {
  connect(): Promise<void>;
  query<R = any>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}
export declare class Client extends ClientBase {
  constructor(config?: string | PoolConfig);
  end(): Promise<void>;
}
export interface PoolClient extends ClientBase { release(err?: Error | boolean): void }
export declare class Pool {
  constructor(config?: PoolConfig);
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  connect(): Promise<PoolClient>;
  connect(callback: (err: Error | undefined, client: PoolClient | undefined, done: (release?: unknown) => void) => void): void;
  query<R = any>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  end(): Promise<void>;
  on(event: "error", listener: (err: Error) => void): this;
}
declare const pg: { Pool: typeof Pool; Client: typeof Client };
export default pg;
`,
  },
  mysql2: {
    "node_modules/mysql2/package.json": pkg("mysql2"),
    "node_modules/mysql2/index.d.ts": `export {};`,
    "node_modules/mysql2/promise.d.ts": `
export interface PoolOptions { host?: string; user?: string; database?: string; connectionLimit?: number; waitForConnections?: boolean }
export type QueryResult = [unknown, unknown];
export interface Connection {
  query(sql: string, values?: unknown): Promise<QueryResult>;
  execute(sql: string, values?: unknown): Promise<QueryResult>;
  beginTransaction(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  end(): Promise<void>;
}
export interface PoolConnection extends Connection { release(): void }
export interface Pool {
  getConnection(): Promise<PoolConnection>;
  releaseConnection(connection: PoolConnection): void;
  query(sql: string, values?: unknown): Promise<QueryResult>;
  execute(sql: string, values?: unknown): Promise<QueryResult>;
  end(): Promise<void>;
}
export declare function createPool(config: PoolOptions | string): Pool;
export declare function createConnection(config: PoolOptions | string): Promise<Connection>;
`,
  },
  knex: {
    "node_modules/knex/package.json": pkg("knex", "types/index.d.ts"),
    "node_modules/knex/types/index.d.ts": `
export interface QueryBuilder<TRecord = any, TResult = any> extends PromiseLike<TResult> {
  select(...columns: string[]): QueryBuilder<TRecord, TResult>;
  where(column: string | Record<string, unknown>, value?: unknown): QueryBuilder<TRecord, TResult>;
  first(...columns: string[]): QueryBuilder<TRecord, TResult>;
  insert(data: unknown): QueryBuilder<TRecord, number[]>;
  update(data: unknown): QueryBuilder<TRecord, number>;
  increment(column: string, amount?: number): QueryBuilder<TRecord, number>;
  del(): QueryBuilder<TRecord, number>;
  forUpdate(): QueryBuilder<TRecord, TResult>;
  returning(column: string | string[]): QueryBuilder<TRecord, TResult>;
  transacting(trx: Knex.Transaction): QueryBuilder<TRecord, TResult>;
  then<A = TResult, B = never>(onfulfilled?: ((value: TResult) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B>;
}
export interface Knex<TRecord = any> {
  <T = any>(tableName: string): QueryBuilder<T>;
  select(...columns: string[]): QueryBuilder<TRecord>;
  insert(data: unknown): QueryBuilder<TRecord, number[]>;
  raw(sql: string, bindings?: unknown): QueryBuilder<TRecord>;
  from(tableName: string): QueryBuilder<TRecord>;
  transaction<T>(transactionScope: (trx: Knex.Transaction) => Promise<T> | void): Promise<T>;
  transaction(): Promise<Knex.Transaction>;
  destroy(): Promise<void>;
}
export declare namespace Knex {
  interface Config { client: string; connection?: unknown; pool?: { min?: number; max?: number } }
  interface Transaction<TRecord = any> extends Knex<TRecord> {
    commit(value?: unknown): Promise<unknown>;
    rollback(error?: unknown): Promise<unknown>;
    isCompleted(): boolean;
  }
}
export declare function knex(config: Knex.Config): Knex;
export default knex;
`,
  },
  "async-lock": {
    "node_modules/async-lock/package.json": pkg("async-lock"),
    "node_modules/async-lock/index.d.ts": `
declare class AsyncLock {
  constructor(options?: { timeout?: number; maxPending?: number; domainReentrant?: boolean });
  acquire<T>(key: string | string[], fn: () => T | PromiseLike<T>, opts?: { timeout?: number }): Promise<T>;
  acquire<T>(key: string | string[], fn: (done: (err?: Error, ret?: T) => void) => void, cb: (err: Error, ret: T) => void, opts?: { timeout?: number }): void;
  isBusy(key?: string): boolean;
}
export = AsyncLock;
`,
  },
  redlock: {
    "node_modules/redlock/package.json": pkg("redlock"),
    "node_modules/redlock/index.d.ts": `
export interface Settings { retryCount: number; retryDelay: number }
export declare class Lock {
  readonly resources: string[];
  release(): Promise<unknown>;
  extend(duration: number): Promise<Lock>;
}
export type RedlockAbortSignal = AbortSignal & { error?: Error };
export default class Redlock {
  constructor(clients: Iterable<unknown>, settings?: Partial<Settings>);
  acquire(resources: string[], duration: number, settings?: Partial<Settings>): Promise<Lock>;
  release(lock: Lock): Promise<unknown>;
  using<T>(resources: string[], duration: number, settings: Partial<Settings>, routine?: (signal: RedlockAbortSignal) => Promise<T>): Promise<T>;
  using<T>(resources: string[], duration: number, routine: (signal: RedlockAbortSignal) => Promise<T>): Promise<T>;
}
`,
  },
  sequelize: {
    "node_modules/sequelize/package.json": pkg("sequelize", "types/index.d.ts"),
    "node_modules/sequelize/types/index.d.ts": `
export interface Transaction { commit(): Promise<void>; rollback(): Promise<void> }
export interface Transactionable { transaction?: Transaction | null }
export interface FindOptions extends Transactionable { where?: Record<string, unknown>; lock?: boolean }
export interface SaveOptions extends Transactionable { fields?: string[] }
export declare class Model<A = any> {
  static init(attributes: Record<string, unknown>, options: { sequelize: Sequelize }): void;
  static findOne<M extends Model>(this: { new (): M }, options?: FindOptions): Promise<M | null>;
  static findAll<M extends Model>(this: { new (): M }, options?: FindOptions): Promise<M[]>;
  static findByPk<M extends Model>(this: { new (): M }, id: unknown, options?: FindOptions): Promise<M | null>;
  static create<M extends Model>(this: { new (): M }, values: Record<string, unknown>, options?: SaveOptions): Promise<M>;
  static update(values: Record<string, unknown>, options: FindOptions): Promise<[number]>;
  static increment(fields: string | Record<string, number>, options: FindOptions & { by?: number }): Promise<unknown>;
  save(options?: SaveOptions): Promise<this>;
  increment(field: string, options?: SaveOptions & { by?: number }): Promise<this>;
  reload(options?: FindOptions): Promise<this>;
  destroy(options?: Transactionable): Promise<void>;
}
export declare class Sequelize {
  constructor(uri: string, options?: { pool?: { max?: number } });
  transaction<T>(autoCallback: (t: Transaction) => PromiseLike<T>): Promise<T>;
  transaction<T>(options: { isolationLevel?: string }, autoCallback: (t: Transaction) => PromiseLike<T>): Promise<T>;
  transaction(options?: { isolationLevel?: string }): Promise<Transaction>;
  query(sql: string, options?: Transactionable & { type?: string }): Promise<unknown>;
}
`,
  },
  typeorm: {
    "node_modules/typeorm/package.json": pkg("typeorm"),
    "node_modules/typeorm/index.d.ts": `
export type EntityTarget<E> = { new (): E } | string;
export declare class Repository<E> {
  find(options?: unknown): Promise<E[]>;
  findOneBy(where: Partial<E>): Promise<E | null>;
  save<T extends Partial<E>>(entity: T): Promise<T>;
  update(criteria: unknown, partial: Partial<E>): Promise<unknown>;
  increment(criteria: unknown, column: string, by: number): Promise<unknown>;
  delete(criteria: unknown): Promise<unknown>;
}
export declare class EntityManager {
  getRepository<E>(target: EntityTarget<E>): Repository<E>;
  find<E>(target: EntityTarget<E>, options?: unknown): Promise<E[]>;
  findOneBy<E>(target: EntityTarget<E>, where: Partial<E>): Promise<E | null>;
  save<E>(entity: E): Promise<E>;
  query(sql: string, params?: unknown[]): Promise<unknown>;
  transaction<T>(run: (em: EntityManager) => Promise<T>): Promise<T>;
  transaction<T>(isolation: string, run: (em: EntityManager) => Promise<T>): Promise<T>;
}
export declare class DataSource {
  constructor(options: { type: string; poolSize?: number });
  readonly manager: EntityManager;
  getRepository<E>(target: EntityTarget<E>): Repository<E>;
  query(sql: string, params?: unknown[]): Promise<unknown>;
  transaction<T>(run: (em: EntityManager) => Promise<T>): Promise<T>;
  transaction<T>(isolation: string, run: (em: EntityManager) => Promise<T>): Promise<T>;
}
`,
  },
  prisma: {
    "node_modules/@prisma/client/package.json": pkg("@prisma/client"),
    "node_modules/@prisma/client/index.d.ts": `export * from ".prisma/client";`,
    "node_modules/.prisma/client/package.json": pkg(".prisma/client"),
    "node_modules/.prisma/client/index.d.ts": `
export type User = { id: number; email: string; balance: number; version: number };
export interface UserDelegate {
  findUnique(args: { where: Partial<User> }): Promise<User | null>;
  findMany(args?: { where?: Partial<User> }): Promise<User[]>;
  create(args: { data: Partial<User> }): Promise<User>;
  update(args: { where: Partial<User>; data: Record<string, unknown> }): Promise<User>;
  updateMany(args: { where: Partial<User>; data: Record<string, unknown> }): Promise<{ count: number }>;
}
export declare class PrismaClient {
  constructor(options?: unknown);
  readonly user: UserDelegate;
  $transaction<R>(fn: (prisma: Omit<PrismaClient, "$transaction" | "$connect" | "$disconnect">) => Promise<R>, options?: { timeout?: number }): Promise<R>;
  $transaction<P extends Promise<unknown>[]>(arg: [...P]): Promise<unknown[]>;
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): Promise<T>;
  $disconnect(): Promise<void>;
}
`,
  },
  "mikro-orm": {
    "node_modules/@mikro-orm/core/package.json": pkg("@mikro-orm/core"),
    "node_modules/@mikro-orm/core/index.d.ts": `
export declare class EntityRepository<E> {
  findOne(where: Partial<E>): Promise<E | null>;
  find(where: Partial<E>): Promise<E[]>;
}
export declare class EntityManager {
  fork(): EntityManager;
  getRepository<E>(entity: { new (): E }): EntityRepository<E>;
  findOne<E>(entity: { new (): E }, where: Partial<E>): Promise<E | null>;
  find<E>(entity: { new (): E }, where: Partial<E>): Promise<E[]>;
  persist(entity: object): this;
  flush(): Promise<void>;
  persistAndFlush(entity: object): Promise<void>;
  transactional<T>(cb: (em: EntityManager) => Promise<T>): Promise<T>;
}
`,
  },
  kysely: {
    "node_modules/kysely/package.json": pkg("kysely"),
    "node_modules/kysely/index.d.ts": `
export interface QueryBuilder<R> {
  where(col: string, op: string, value: unknown): QueryBuilder<R>;
  selectAll(): QueryBuilder<R>;
  set(values: Record<string, unknown>): QueryBuilder<R>;
  values(values: Record<string, unknown>): QueryBuilder<R>;
  execute(): Promise<R[]>;
  executeTakeFirst(): Promise<R | undefined>;
}
export declare class Kysely<DB> {
  constructor(config: unknown);
  selectFrom(table: string): QueryBuilder<any>;
  insertInto(table: string): QueryBuilder<any>;
  updateTable(table: string): QueryBuilder<any>;
  deleteFrom(table: string): QueryBuilder<any>;
  transaction(): TransactionBuilder<DB>;
  startTransaction(): ControlledTransactionBuilder<DB>;
  connection(): ConnectionBuilder<DB>;
}
export declare class Transaction<DB> extends Kysely<DB> {}
export declare class ControlledTransaction<DB> extends Transaction<DB> {
  commit(): { execute(): Promise<void> };
  rollback(): { execute(): Promise<void> };
}
export declare class TransactionBuilder<DB> {
  setIsolationLevel(level: string): TransactionBuilder<DB>;
  execute<T>(callback: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
}
export declare class ControlledTransactionBuilder<DB> {
  execute(): Promise<ControlledTransaction<DB>>;
}
export declare class ConnectionBuilder<DB> {
  execute<T>(callback: (db: Kysely<DB>) => Promise<T>): Promise<T>;
}
`,
  },
  drizzle: {
    "node_modules/drizzle-orm/package.json": pkg("drizzle-orm"),
    "node_modules/drizzle-orm/index.d.ts": `
export interface Table { readonly _name: string }
export interface Query<R> extends PromiseLike<R> { where(cond: unknown): Query<R>; from(t: Table): Query<R>; set(v: Record<string, unknown>): Query<R>; values(v: Record<string, unknown>): Query<R> }
export declare class RelationalQueryBuilder<R> { findMany(cfg?: unknown): Promise<R[]>; findFirst(cfg?: unknown): Promise<R | undefined> }
export declare class PgDatabase {
  readonly query: { users: RelationalQueryBuilder<{ id: number; balance: number }> };
  select(fields?: Record<string, unknown>): Query<any[]>;
  insert(t: Table): Query<unknown>;
  update(t: Table): Query<unknown>;
  delete(t: Table): Query<unknown>;
  execute(sql: unknown): Promise<unknown>;
  transaction<T>(fn: (tx: PgTransaction) => Promise<T>): Promise<T>;
}
export declare class PgTransaction extends PgDatabase { rollback(): never }
export declare class NodePgDatabase extends PgDatabase {}
export declare class BaseSQLiteDatabase {
  select(fields?: Record<string, unknown>): Query<any[]>;
  transaction<T>(fn: (tx: BaseSQLiteDatabase) => Promise<T>): Promise<T>;
}
export declare function drizzle(client: unknown): NodePgDatabase;
export declare function drizzleSqlite(client: unknown): BaseSQLiteDatabase;
export declare function eq(a: unknown, b: unknown): unknown;
export declare const users: Table & { id: unknown; balance: unknown };
`,
  },
  ioredis: {
    "node_modules/ioredis/package.json": pkg("ioredis"),
    "node_modules/ioredis/index.d.ts": `
export interface ChainableCommander {
  get(key: string): ChainableCommander;
  set(key: string, value: string | number): ChainableCommander;
  incr(key: string): ChainableCommander;
  exec(): Promise<[Error | null, unknown][] | null>;
  discard(): Promise<"OK">;
}
export default class Redis {
  constructor(url?: string);
  get(key: string): Promise<string | null>;
  set(key: string, value: string | number): Promise<"OK">;
  incr(key: string): Promise<number>;
  incrby(key: string, by: number): Promise<number>;
  watch(...keys: string[]): Promise<"OK">;
  multi(): ChainableCommander;
  quit(): Promise<"OK">;
}
`,
  },
};

/** The files of the named stub packages, merged, for a rule test case's `files`. */
export function stubs(...names: readonly (keyof typeof library)[]): CaseFiles {
  const out: Record<string, string> = {};
  for (const n of names) {
    const files = library[n];
    if (!files) throw new RangeError(`stubs: no stub package named ${JSON.stringify(n)}`);
    Object.assign(out, files);
  }
  return out;
}
