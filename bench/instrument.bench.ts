/**
 * What instrumentation at load costs a query, on a real PostgreSQL server: pg and knex loaded
 * with installInstrumentations() (pools guarded, every client query recorded for the
 * database-deadlock report) against the same libraries loaded plain. Each side runs in a process
 * of its own (two copies of pg in one process run slower than one, whichever is instrumented), the
 * two alternating, three runs each; the figure is the ratio of the medians. Debug mode is on, as
 * it is whenever instrumentation is; production mode is measured too.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startPgServer } from "../demos/pg-server.js";
import { figure } from "./harness.js";

interface Sample {
  /** per op kind: median wall µs, CPU µs per op */
  readonly [op: string]: { wall: number; cpu: number };
}

const OPS = ["pool.query", "connect/query/release", "knex.raw"] as const;

async function child(url: string, instrumented: boolean, mode: "debug" | "production"): Promise<Sample> {
  const { createRequire } = await import("node:module");
  const { configure } = await import("../src/core/config.js");
  const { installInstrumentations } = await import("../src/instrument/index.js");
  configure({ onDiagnosis: () => {}, mode });
  if (instrumented) installInstrumentations({ libraries: ["pg", "knex"] });
  const require = createRequire(import.meta.url);
  const pg = require("pg") as typeof import("pg");
  const knexFactory = require("knex") as typeof import("knex").knex;
  const quiet = { warn() {}, error() {}, debug() {}, deprecate() {} };
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const db = knexFactory({ client: "pg", connection: url, pool: { min: 1, max: 2 }, log: quiet });
  if (instrumented !== "guard" in pool || instrumented !== "guard" in db) throw new Error("bench setup: instrumentation is not as expected");
  const ops: Record<(typeof OPS)[number], () => Promise<unknown>> = {
    "pool.query": () => pool.query("select 1"),
    "connect/query/release": async () => {
      const c = await pool.connect();
      try {
        return await c.query("select 1");
      } finally {
        c.release();
      }
    },
    "knex.raw": () => db.raw("select 1"),
  };
  const N = 2500;
  const WARM = 300;
  const out: Record<string, { wall: number; cpu: number }> = {};
  const times: Record<string, number[]> = Object.fromEntries(OPS.map((k) => [k, []]));
  const cpu: Record<string, number> = Object.fromEntries(OPS.map((k) => [k, 0]));
  for (let i = 0; i < N + WARM; i++) {
    for (let j = 0; j < OPS.length; j++) {
      const k = OPS[(i + j) % OPS.length]!;
      const c = process.cpuUsage();
      const t = performance.now();
      await ops[k]();
      if (i >= WARM) {
        times[k]!.push(performance.now() - t);
        const d = process.cpuUsage(c);
        cpu[k]! += d.user + d.system;
      }
    }
  }
  for (const k of OPS) {
    const sorted = [...times[k]!].sort((a, b) => a - b);
    out[k] = { wall: sorted[sorted.length >> 1]! * 1000, cpu: cpu[k]! / N };
  }
  await pool.end();
  await db.destroy();
  return out;
}

if (process.argv[2] === "child") {
  const result = await child(process.argv[3]!, process.argv[4] === "instrumented", process.argv[5] as "debug" | "production");
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

const started = await startPgServer();
if (!("server" in started)) {
  figure("instrumented pg/knex queries", `skipped: no PostgreSQL server (${started.unavailable})`);
  process.exit(0);
}
const { server } = started;
const self = fileURLToPath(import.meta.url);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
try {
  for (const mode of ["debug", "production"] as const) {
    const runs: Record<"plain" | "instrumented", Sample[]> = { plain: [], instrumented: [] };
    for (let round = 0; round < 3; round++) {
      // alternate which side goes first, so neither always runs on a warmer machine
      const order = round % 2 === 0 ? (["plain", "instrumented"] as const) : (["instrumented", "plain"] as const);
      for (const side of order) {
        const r = spawnSync(process.execPath, ["--import", "tsx", self, "child", server.url, side, mode], { encoding: "utf8", maxBuffer: 1 << 20 });
        if (r.status !== 0) throw new Error(`bench child (${side}, ${mode}) failed: ${r.stderr.slice(-800)}`);
        runs[side].push(JSON.parse(r.stdout) as Sample);
      }
    }
    for (const op of OPS) {
      const wallI = median(runs.instrumented.map((s) => s[op]!.wall));
      const wallP = median(runs.plain.map((s) => s[op]!.wall));
      const cpuI = median(runs.instrumented.map((s) => s[op]!.cpu));
      const cpuP = median(runs.plain.map((s) => s[op]!.cpu));
      const ratio = wallI / wallP;
      figure(
        `${op} ('select 1'), instrumented vs plain [${mode} mode]`,
        `${ratio.toFixed(2)}x wall (target <= 1.1x: ${ratio <= 1.1 ? "met" : "NOT met"}), ${(cpuI / cpuP).toFixed(2)}x in the client's CPU time  ` +
          `[median ${wallI.toFixed(1)} µs vs ${wallP.toFixed(1)} µs; CPU ${cpuI.toFixed(1)} µs vs ${cpuP.toFixed(1)} µs per op; 3 runs of 2,500 per side, alternating processes]`,
      );
    }
  }
} finally {
  await server.stop();
}
