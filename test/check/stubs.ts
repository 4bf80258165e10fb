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
};

/** The files of the named stub packages, merged, for a rule test case's `files`. */
export function stubs(...names: readonly (keyof typeof library | string)[]): CaseFiles {
  const out: Record<string, string> = {};
  for (const n of names) {
    const files = library[n];
    if (!files) throw new RangeError(`stubs: no stub package named ${JSON.stringify(n)}`);
    Object.assign(out, files);
  }
  return out;
}
