// The large budget of the deadlock-proof property tests (npm test runs a small fixed-seed one):
// `npm run prop:deadlock` runs 18,000 programs against async-mutex's ground truth.
import { spawnSync } from "node:child_process";

const runs = process.argv[2] ?? "18000";
const r = spawnSync(
  process.execPath,
  ["--expose-gc", "--import", "tsx", "--import", "./test/await-graph-setup.ts", "--test", "test/sync/ground-truth.test.ts"],
  {
    stdio: "inherit",
    env: { ...process.env, ASYNCDOCTOR_PROPERTY_RUNS: runs },
  },
);
process.exit(r.status ?? 1);
