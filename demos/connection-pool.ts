/**
 * Seed 2.3 (connection-pool deadlock): a coroutine holding a connection asks the pool for
 * another. With as many such coroutines as connections, every connection is held by someone
 * waiting for one more: a hang. asyncdoctor's Pool sees that every permit holder waits on the
 * same pool and rejects the last acquire (`pool-exhaustion`).
 */
import { DeadlockError, Pool } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";
import { cutAfter, naiveSemaphore, pause } from "./naive-lock.js";

/** A stand-in for a database connection. */
interface Connection {
  query(sql: string): Promise<string[]>;
}

function connect(): Connection {
  return {
    async query(sql: string) {
      await pause(2);
      return [`row for ${sql}`];
    },
  };
}

/** The pool shape the bug… and fixed… functions use: pg-like `use(fn)`. */
interface ConnectionPool {
  use<T>(fn: (conn: Connection) => Promise<T>): Promise<T>;
}

/** A pool without detection: a FIFO semaphore around fresh connections. */
function naivePool(size: number): ConnectionPool {
  const sem = naiveSemaphore(size);
  return { use: (fn) => sem.runExclusive(() => fn(connect())) };
}

/** The bug: holding a connection, it calls a helper that takes another from the pool. */
async function bugProcessUser(pool: ConnectionPool, userId: number): Promise<string[]> {
  return pool.use(async (conn) => {
    const user = await conn.query(`select user ${userId}`);
    await pause(5);
    const orders = await bugGetOrders(pool, userId);
    return [...user, ...orders];
  });
}

async function bugGetOrders(pool: ConnectionPool, userId: number): Promise<string[]> {
  return pool.use((conn) => conn.query(`select orders of ${userId}`));
}

/** The fix: the open connection is passed down to the helper. */
async function fixedProcessUser(pool: ConnectionPool, userId: number): Promise<string[]> {
  return pool.use(async (conn) => {
    const user = await conn.query(`select user ${userId}`);
    const orders = await fixedGetOrders(conn, userId);
    return [...user, ...orders];
  });
}

async function fixedGetOrders(conn: Connection, userId: number): Promise<string[]> {
  return conn.query(`select orders of ${userId}`);
}

export const connectionPool: Demo = {
  name: "connection-pool",
  title: "connection holders asking the pool again: hangs, vs pool exhaustion detected",
  seed: "2.3",
  async run(out) {
    out.section("the bug: 2 users processed at once on a pool of 2, without detection (cut after 100 ms)");
    const shared = naivePool(2);
    const outcome = await cutAfter(Promise.all([1, 2].map((id) => bugProcessUser(shared, id))), 100);
    out.log(`after 100 ms: ${outcome}. Both connections are held by users each waiting for one more, for ever`);

    out.section("asyncdoctor's report: the same code on asyncdoctor's Pool, in debug mode (asyncdoctor run)");
    const { found: bug } = await collect(
      async () => {
        const pool = new Pool({ name: "db", max: 2, create: connect, captureSites: true });
        const results = await Promise.allSettled([1, 2].map((id) => bugProcessUser(pool, id)));
        for (const r of results) {
          if (r.status === "fulfilled") out.log(`a user finished once the other gave its connection back: ${r.value.length} rows`);
          else if (r.reason instanceof DeadlockError) out.log(`rejected with ${r.reason.name} (kind "${r.reason.kind}")`);
          else throw r.reason;
        }
      },
      { mode: "debug" },
    );
    for (const d of bug) out.diagnosis(d);

    out.section("the fix: pass the open connection down");
    const { found: fixed } = await collect(async () => {
      const pool = new Pool({ name: "db (fixed)", max: 2, create: connect });
      const rows = await Promise.all([1, 2, 3, 4].map((id) => fixedProcessUser(pool, id)));
      out.log(`${rows.length} users processed on a pool of 2; reports: 0 expected`);
    });
    return { bug, fixed };
  },
};
