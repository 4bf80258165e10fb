// The cost of debug mode's await graph on await-heavy code: the same workload run plain
// (no transform, production mode) and compiled with the transform in debug mode with the
// graph recording, each in its own process, interleaved over several rounds; the ratio is the
// figure (target <= 3x).
import { spawnSync } from "node:child_process";
import { figure } from "./harness.js";

const workload = "bench/workloads/await-heavy.ts";

function run(args: string[], env: NodeJS.ProcessEnv): number {
  const r = spawnSync(process.execPath, [...args, workload], { encoding: "utf8", env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`workload failed: ${r.stderr}`);
  return Number(r.stdout.trim().split("\n").pop());
}

const plain: number[] = [];
const graph: number[] = [];
for (let round = 0; round < 3; round++) {
  plain.push(run(["--import", "tsx"], { ASYNCDOCTOR: "" }));
  graph.push(run(["--import", "tsx", "--import", "./test/await-graph-setup.ts"], { ASYNCDOCTOR: "debug" }));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratio = median(graph) / median(plain);
figure(
  "debug mode with the await graph, await-heavy code",
  `${ratio.toFixed(2)}x uninstrumented (target <= 3x: ${ratio <= 3 ? "met" : "NOT met"}) [plain ${median(plain).toFixed(0)} ms, debug ${median(graph).toFixed(0)} ms, median of 3]`,
);
