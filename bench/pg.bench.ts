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
  figure(`pg pool of ${POOL_SIZE}, ${POOL_SIZE} holders each asking again: guardPool detects it after`, `${gm.toFixed(2)} ms (median of ${ROUNDS}; min ${Math.min(...guardedMs).toFixed(2)}, max ${Math.max(...guardedMs).toFixed(2)})`);
  figure(`node-postgres alone (connectionTimeoutMillis ${PG_TIMEOUT_MS}) fails after`, `${pm.toFixed(0)} ms (median of ${plainMs.length}), with no word on who holds what; with its default (0) it waits for ever`);
  figure("time to detection, guardPool / the pool's own timeout", `${(gm / pm).toFixed(4)}x (${(pm / gm).toFixed(0)} times sooner); against a 30 s acquire timeout: ${(gm / 30_000).toFixed(5)}x`);

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
          .spawn(() =>
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
  figure(`knex pool of ${POOL_SIZE}, a query on knex instead of trx in ${POOL_SIZE} transactions: guardKnex detects it after`, `${kg.toFixed(2)} ms (median of ${ROUNDS})`);
  figure(`knex alone (acquireConnectionTimeout ${PG_TIMEOUT_MS}; default 60 s) fails after`, `${knexPlain.toFixed(0)} ms`);
  figure("time to detection, guardKnex / the pool's own timeout", `${(kg / knexPlain).toFixed(4)}x; against knex's default 60 s: ${(kg / 60_000).toFixed(6)}x`);
} finally {
  await server.stop();
}
