/**
 * Seed 2.3 (connection-pool deadlock) on a real PostgreSQL server: every request holds a client
 * and, through a helper, asks the pool for another. With a pool of N and N such requests at once,
 * nobody ever gets a second client. node-postgres waits for ever by default, or until
 * `connectionTimeoutMillis` with an error that does not say who holds the clients; guardPool
 * rejects the acquire that closes the deadlock at once, naming every holder and where it acquired.
 *
 * It starts a throwaway server on loopback (or uses ASYNCDOCTOR_PG_URL); without PostgreSQL (or
 * without the `pg` package, a devDependency) it says so and skips the live part.
 */
import type pg from "pg";
import { DeadlockError, guardPool, TaskTracker } from "../src/index.js";
import type { Diagnosis } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";
import { startPgServer } from "./pg-server.js";

/** What the request code needs of a pool: the seed's `async with pool.acquire()` and `pool.query`. */
export interface Db {
  use<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

/** A plain pg.Pool seen through the same interface (connect, and release in `finally`). */
export function plainDb(pool: pg.Pool): Db {
  return {
    async use(fn) {
      const client = await pool.connect();
      try {
        return await fn(client);
      } finally {
        client.release();
      }
    },
    query: (text, values) => pool.query(text, values),
  };
}

/**
 * Holds each request at the point where every one has its client, as load does at random; the
 * moment the last one arrives is when the deadlock becomes certain.
 */
function rendezvous(n: number): { arrive: () => Promise<void>; readonly openedAt: number } {
  let arrived = 0;
  let open!: () => void;
  const all = new Promise<void>((r) => (open = r));
  const state = {
    openedAt: NaN,
    arrive: () => {
      if (++arrived === n) {
        state.openedAt = performance.now();
        open();
      }
      return all;
    },
  };
  return state;
}

/** One run of the seed's scenario: `n` requests at once on a pool of `n`. */
export async function runSeedScenario(
  db: Db,
  n: number,
  spawn: (fn: () => Promise<number>, i: number) => PromiseLike<number> = (fn) => fn(),
): Promise<{ results: PromiseSettledResult<number>[]; firstError: unknown; msToFirstError: number }> {
  const meet = rendezvous(n);
  let firstErrorAt = NaN;
  let firstError: unknown;
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      Promise.resolve(spawn(() => bugProcessUser(db, i, meet.arrive), i)).catch((err: unknown) => {
        if (Number.isNaN(firstErrorAt)) {
          firstErrorAt = performance.now();
          firstError = err;
        }
        throw err;
      }),
    ),
  );
  return { results, firstError, msToFirstError: firstErrorAt - meet.openedAt };
}

// ---- the bug: the seed's process_user / update_stats ----

async function bugUpdateStats(db: Db, userId: number): Promise<void> {
  await db.query("select $1::int as user_id, now() as seen", [userId]); // needs a second client
}

async function bugProcessUser(db: Db, userId: number, allHolding: () => Promise<void>): Promise<number> {
  return db.use(async (client) => {
    const { rows } = await client.query<{ id: number }>("select $1::int as id", [userId]); // holds client 1
    await allHolding();
    await bugUpdateStats(db, userId); // waits for a client while holding one
    return rows[0]!.id;
  });
}

// ---- the fix: pass the client you hold down ----

async function fixedUpdateStats(client: pg.PoolClient, userId: number): Promise<void> {
  await client.query("select $1::int as user_id, now() as seen", [userId]);
}

async function fixedProcessUser(db: Db, userId: number, allHolding: () => Promise<void>): Promise<number> {
  return db.use(async (client) => {
    const { rows } = await client.query<{ id: number }>("select $1::int as id", [userId]);
    await allHolding();
    await fixedUpdateStats(client, userId);
    return rows[0]!.id;
  });
}

const POOL_SIZE = 3;
const PG_TIMEOUT_MS = 1000;

export const pgPoolDeadlock: Demo = {
  name: "pg-pool-deadlock",
  title: "connection-pool deadlock on a real PostgreSQL server: found at once, not after the pool's timeout",
  seed: "2.3",
  async run(out) {
    let Pg: typeof pg;
    try {
      Pg = (await import("pg")).default;
    } catch {
      out.log("the `pg` package is not installed (npm install pg): skipping the live part of this demo");
      return { bug: [], fixed: [] };
    }
    const started = await startPgServer();
    if (!("server" in started)) {
      out.log(`no PostgreSQL server (${started.unavailable}): skipping the live part of this demo`);
      return { bug: [], fixed: [] };
    }
    const server = started.server;
    const pools: pg.Pool[] = [];
    const newPool = (extra: pg.PoolConfig = {}) => {
      const p = new Pg.Pool({ connectionString: server.url, max: POOL_SIZE, ...extra });
      pools.push(p);
      return p;
    };
    try {
      out.log(
        `PostgreSQL ${server.throwaway ? "started on loopback for this demo" : "from ASYNCDOCTOR_PG_URL"}; pool of ${POOL_SIZE}, ${POOL_SIZE} requests at once`,
      );

      out.section(`the bug, plain node-postgres (connectionTimeoutMillis: ${PG_TIMEOUT_MS}; its default, 0, waits for ever)`);
      const plain = plainDb(newPool({ connectionTimeoutMillis: PG_TIMEOUT_MS }));
      const plainRun = await runSeedScenario(plain, POOL_SIZE);
      const failed = plainRun.results.filter((r) => r.status === "rejected").length;
      out.log(
        `${plainRun.msToFirstError.toFixed(0)} ms after the deadlock formed: ${failed} of ${POOL_SIZE} requests failed with "${(plainRun.firstError as Error | undefined)?.message}"`,
      );
      out.log("nothing says that it was a deadlock, which requests held the clients, or where they took them");

      out.section("asyncdoctor's report (the same code, pool wrapped by guardPool, pg's default of no time limit, debug mode)");
      // a time limit on every acquire would end the knot by itself: then it is not proven, and the
      // TimeoutError names it instead; with pg's default (wait for ever) it is proven at once
      const guarded = guardPool(newPool(), { name: "db" });
      const tracker = new TaskTracker({ name: "requests" });
      let guardedRun: Awaited<ReturnType<typeof runSeedScenario>> | undefined;
      const { found: bug } = await collect(
        async () => {
          guardedRun = await runSeedScenario(guarded, POOL_SIZE, (fn, i) => tracker.spawn(fn, { name: `process-user-${i}` }));
        },
        { mode: "debug" },
      );
      const proven = bug.filter((d: Diagnosis) => d.certainty === "proven");
      for (const d of proven) out.diagnosis(d);
      const ok = guardedRun!.results.filter((r) => r.status === "fulfilled").length;
      out.log(
        `${guardedRun!.firstError instanceof DeadlockError ? "DeadlockError" : String(guardedRun!.firstError)} ${guardedRun!.msToFirstError.toFixed(1)} ms after the deadlock formed, instead of an anonymous timeout after ${PG_TIMEOUT_MS} ms (or never); ${ok} of ${POOL_SIZE} requests then completed`,
      );

      out.section("the fix: pass the client you hold down to update_stats");
      const { found: fixed } = await collect(async () => {
        const meet = rendezvous(POOL_SIZE);
        const ids = await Promise.all(
          Array.from({ length: POOL_SIZE }, (_, i) => tracker.spawn(() => fixedProcessUser(guarded, i, meet.arrive), { name: `process-user-${i}` })),
        );
        out.log(`all ${ids.length} requests completed, each with one client`);
      });
      return { bug: proven, fixed };
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await server.stop();
    }
  },
};
