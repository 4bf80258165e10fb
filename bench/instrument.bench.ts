/**
 * What instrumentation at load costs a query, on a real PostgreSQL server: pg and knex loaded
 * with installInstrumentations() (their pools guarded, every client query recorded for the
 * database-deadlock report) against the same libraries loaded plain, in the same process,
 * interleaved op by op; medians compared. Debug mode is on, as it is whenever instrumentation is.
 */
import { createRequire } from "node:module";
import { configure } from "../src/core/config.js";
import { installInstrumentations } from "../src/instrument/index.js";
import { startPgServer } from "../demos/pg-server.js";
import { figure } from "./harness.js";
import type PgModule from "pg";
import type KnexModule from "knex";

const started = await startPgServer();
if (!("server" in started)) {
  figure("instrumented pg/knex queries", `skipped: no PostgreSQL server (${started.unavailable})`);
  process.exit(0);
}
const { server } = started;
const require = createRequire(import.meta.url);
configure({ onDiagnosis: () => {} });

// a plain copy of each library first; then a second copy, loaded instrumented
const plainPg = require("pg") as typeof PgModule;
const plainKnexFactory = require("knex") as typeof KnexModule.knex;
const quiet = { warn() {}, error() {}, debug() {}, deprecate() {} };
const plainKnex = plainKnexFactory({ client: "pg", connection: server.url, pool: { min: 1, max: 2 }, log: quiet });
await plainKnex.raw("select 1"); // loads knex's pg driver (the plain copy) now
for (const key of Object.keys(require.cache)) {
  if (/[\\/]node_modules[\\/](?:pg|pg-pool|knex)[\\/]/.test(key)) delete require.cache[key];
}
const installed = installInstrumentations({ libraries: ["pg", "knex"] });
const instPg = require("pg") as typeof PgModule;
const instKnexFactory = require("knex") as typeof KnexModule.knex;
if (instPg === plainPg || instPg.Client === plainPg.Client) throw new Error("bench setup: the instrumented pg is the plain copy");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(mode: "debug" | "production"): Promise<void> {
  configure({ mode });
  const plainPool = new plainPg.Pool({ connectionString: server.url, max: 2 });
  const instPool = new instPg.Pool({ connectionString: server.url, max: 2 });
  const instKnex = instKnexFactory({ client: "pg", connection: server.url, pool: { min: 1, max: 2 }, log: quiet });
  if (!("guard" in instPool) || !("guard" in instKnex)) throw new Error("bench setup: the instrumented pool or knex is not guarded");
  const connectQuery = async (pool: PgModule.Pool) => {
    const c = await pool.connect();
    try {
      return await c.query("select 1");
    } finally {
      c.release();
    }
  };
  const ops: Record<string, () => Promise<unknown>> = {
    instQuery: () => instPool.query("select 1"),
    plainQuery: () => plainPool.query("select 1"),
    instConnect: () => connectQuery(instPool),
    plainConnect: () => connectQuery(plainPool),
    instKnex: () => instKnex.raw("select 1"),
    plainKnex: () => plainKnex.raw("select 1"),
  };
  const names = Object.keys(ops);
  const times: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  // this process's CPU time per op: the wall clock on a loaded 2-core machine mostly measures the others
  const cpu: Record<string, number> = Object.fromEntries(names.map((k) => [k, 0]));
  const N = 3000;
  const WARM = 300;
  for (let i = 0; i < N + WARM; i++) {
    // round robin, from a different op each time, so none always follows the same one
    for (let j = 0; j < names.length; j++) {
      const k = names[(i + j) % names.length]!;
      const c = process.cpuUsage();
      const t = performance.now();
      await ops[k]!();
      if (i >= WARM) {
        times[k]!.push(performance.now() - t);
        const d = process.cpuUsage(c);
        cpu[k]! += d.user + d.system;
      }
    }
  }
  const line = (label: string, ours: string, peer: string, peerName: string) => {
    const r = median(times[ours]!) / median(times[peer]!);
    figure(
      `${label} [${mode} mode]`,
      `${r.toFixed(2)}x ${peerName} wall (target <= 1.1x: ${r <= 1.1 ? "met" : "NOT met"}), ${(cpu[ours]! / cpu[peer]!).toFixed(2)}x in this process's CPU time  ` +
        `[median ${(median(times[ours]!) * 1000).toFixed(1)} µs vs ${(median(times[peer]!) * 1000).toFixed(1)} µs; CPU ${(cpu[ours]! / N).toFixed(1)} µs vs ${(cpu[peer]! / N).toFixed(1)} µs per op; interleaved, ${N} each]`,
    );
  };
  line("pool.query('select 1'), pg instrumented", "instQuery", "plainQuery", "plain pg");
  line("connect / client.query / release, pg instrumented", "instConnect", "plainConnect", "plain pg");
  line("knex.raw('select 1'), knex + pg instrumented", "instKnex", "plainKnex", "plain knex");
  await Promise.all([plainPool.end(), instPool.end(), instKnex.destroy()]);
}

try {
  await measure("debug");
  await measure("production");
} finally {
  installed.uninstall();
  await plainKnex.destroy();
  await server.stop();
}
