/**
 * Time to detection of the seed's connection-pool deadlock (2.3) on a real PostgreSQL server:
 * guardPool's DeadlockError against node-postgres' own connectionTimeoutMillis, measured from
 * the moment the deadlock formed (every holder has its client and asks for another).
 */
import { configure, guardKnex, guardPool, TaskTracker } from "../src/index.js";
import { plainDb, runSeedScenario } from "../demos/pg-pool-deadlock.js";
import { startPgServer } from "../demos/pg-server.js";
import { figure } from "./harness.js";

const POOL_SIZE = 5;
const PG_TIMEOUT_MS = 1000;
const ROUNDS = 7;

const started = await startPgServer();
if (!("server" in started)) {
  figure("pg pool deadlock", `skipped: no PostgreSQL server (${started.unavailable})`);
  process.exit(0);
}
const { server } = started;
const pg = (await import("pg")).default;
configure({ onDiagnosis: () => {} });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  // what the guard costs on the happy path: one query at a time, guarded and plain. A network
  // round trip jitters more than batches of one kind can average out, so the two are interleaved
  // op by op and the medians compared.
  const plainPool = new pg.Pool({ connectionString: server.url, max: 2 });
  const guardedPool = guardPool(new pg.Pool({ connectionString: server.url, max: 2 }), { name: "bench" });
  const plainConnect = async () => {
    const c = await plainPool.connect();
    try {
      return await c.query("select 1");
    } finally {
      c.release();
    }
  };
  const ops: Record<string, () => Promise<unknown>> = {
    guardedQuery: () => guardedPool.query("select 1"),
    plainQuery: () => plainPool.query("select 1"),
    guardedUse: () => guardedPool.use((c) => c.query("select 1")),
    plainConnect,
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
  const names = Object.keys(ops);
  for (let i = 0; i < 4000; i++) {
    // round robin, starting at a different op each time, so none always follows the same one
    for (let j = 0; j < names.length; j++) {
      const k = names[(i + j) % names.length]!;
      const t = performance.now();
      await ops[k]!();
      if (i >= 500) times[k]!.push(performance.now() - t);
    }
  }
  const m = (k: string) => median(times[k]!);
  const line = (label: string, ours: string, peer: string, peerName: string) =>
    figure(
      label,
      `${(m(ours) / m(peer)).toFixed(2)}x ${peerName}  [median ${(m(ours) * 1000).toFixed(1)} µs vs ${(m(peer) * 1000).toFixed(1)} µs per query on loopback, interleaved, 3,500 each]`,
    );
  line("pool.query('select 1'), guardPool'ed", "guardedQuery", "plainQuery", "plain pg.Pool");
  line("pool.use((c) => c.query('select 1'))", "guardedUse", "plainConnect", "plain connect/query/release");
  await Promise.all([plainPool.end(), guardedPool.end()]);

  const guardedMs: number[] = [];
  const plainMs: number[] = [];
  const tracker = new TaskTracker();
  for (let round = 0; round < ROUNDS; round++) {
    const raw = new pg.Pool({ connectionString: server.url, max: POOL_SIZE, connectionTimeoutMillis: PG_TIMEOUT_MS });
    const guarded = guardPool(new pg.Pool({ connectionString: server.url, max: POOL_SIZE, connectionTimeoutMillis: PG_TIMEOUT_MS }), { name: "db" });
    const g = await runSeedScenario(guarded, POOL_SIZE, (fn, i) => tracker.spawn(fn, { name: `process-user-${i}` }));
    if ((g.firstError as Error | undefined)?.name !== "DeadlockError") throw new Error(`expected a DeadlockError, got ${String(g.firstError)}`);
    guardedMs.push(g.msToFirstError);
    // the plain pool takes a full second a round: fewer rounds of it tell as much
    if (round < 3) {
      const p = await runSeedScenario(plainDb(raw), POOL_SIZE);
      plainMs.push(p.msToFirstError);
    }
    await Promise.all([raw.end(), guarded.end()]);
  }
  const gm = median(guardedMs);
  const pm = median(plainMs);
  figure(
    `pg pool of ${POOL_SIZE}, ${POOL_SIZE} holders each asking again: guardPool detects it after`,
    `${gm.toFixed(2)} ms (median of ${ROUNDS}; min ${Math.min(...guardedMs).toFixed(2)}, max ${Math.max(...guardedMs).toFixed(2)})`,
  );
  figure(
    `node-postgres alone (connectionTimeoutMillis ${PG_TIMEOUT_MS}) fails after`,
    `${pm.toFixed(0)} ms (median of ${plainMs.length}), with no word on who holds what; with its default (0) it waits for ever`,
  );
  figure(
    "time to detection, guardPool / the pool's own timeout",
    `${(gm / pm).toFixed(4)}x (${(pm / gm).toFixed(0)} times sooner); against a 30 s acquire timeout: ${(gm / 30_000).toFixed(5)}x`,
  );

  // knex: a query on knex instead of trx inside every transaction at once
  const knexFactory = (await import("knex")).default;
  const knexRound = async (guard: boolean): Promise<number> => {
    const quiet = { warn() {}, error() {}, debug() {}, deprecate() {} };
    const k = knexFactory({ client: "pg", connection: server.url, pool: { min: 0, max: POOL_SIZE }, acquireConnectionTimeout: PG_TIMEOUT_MS, log: quiet });
    const db = guard ? guardKnex(k, { name: "db" }) : k;
    let arrived = 0;
    let openedAt = NaN;
    let open!: () => void;
    const all = new Promise<void>((r) => (open = r));
    let firstErrorAt = NaN;
    await Promise.allSettled(
      Array.from({ length: POOL_SIZE }, (_, i) =>
        tracker
          .spawn(
            () =>
              db.transaction(async (trx) => {
                await trx.raw("select 1");
                if (++arrived === POOL_SIZE) {
                  openedAt = performance.now();
                  open();
                }
                await all;
                await db.raw("select 2");
              }),
            { name: `tx-${i}` },
          )
          .then(undefined, (err: unknown) => {
            if (Number.isNaN(firstErrorAt)) firstErrorAt = performance.now();
            throw err;
          }),
      ),
    );
    await k.destroy();
    return firstErrorAt - openedAt;
  };
  const knexGuarded: number[] = [];
  for (let round = 0; round < ROUNDS; round++) knexGuarded.push(await knexRound(true));
  const knexPlain = await knexRound(false);
  const kg = median(knexGuarded);
  figure(
    `knex pool of ${POOL_SIZE}, a query on knex instead of trx in ${POOL_SIZE} transactions: guardKnex detects it after`,
    `${kg.toFixed(2)} ms (median of ${ROUNDS})`,
  );
  figure(`knex alone (acquireConnectionTimeout ${PG_TIMEOUT_MS}; default 60 s) fails after`, `${knexPlain.toFixed(0)} ms`);
  figure("time to detection, guardKnex / the pool's own timeout", `${(kg / knexPlain).toFixed(4)}x; against knex's default 60 s: ${(kg / 60_000).toFixed(6)}x`);
} finally {
  await server.stop();
}
