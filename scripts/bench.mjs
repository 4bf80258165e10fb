// Runs every bench/*.bench.ts in its own process (so one benchmark's garbage does not tax the next)
// and prints each figure as a ratio against a peer measured side by side in the same run.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const filter = process.argv.slice(2);
let files = readdirSync("bench")
  .filter((f) => f.endsWith(".bench.ts"))
  .sort();
if (filter.length > 0) files = files.filter((f) => filter.some((x) => f.includes(x)));
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n## ${f}\n`);
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", `bench/${f}`], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
