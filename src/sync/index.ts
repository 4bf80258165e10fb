/**
 * The sync/ face of the library: the primitives, lockAll and the lease.
 */
export { Mutex } from "./mutex.js";
export { Semaphore } from "./semaphore.js";
export type { SemaphoreAcquireOptions } from "./semaphore.js";
export { RWLock } from "./rwlock.js";
export { Pool } from "./pool.js";
export type { PoolOptions, PoolGuardOptions } from "./pool.js";
export { lockAll, LockSet } from "./lock-all.js";
export type { Lockable } from "./lock-all.js";
export { Lease, ReleaseError } from "./lease.js";
export { Primitive } from "./primitive.js";
export type { AcquireOptions, PrimitiveOptions } from "./primitive.js";
export { lockSnapshot } from "./live-primitives.js";
