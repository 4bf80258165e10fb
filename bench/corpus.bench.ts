/**
 * The corpus of reproduced real bug reports (corpus/cases, scored by corpus/score.mjs): the share
 * of bug cases the runtime doctor and the static checker diagnose at the right class and line,
 * and the number of correct controls that get any finding (goal 0). These are scores, not
 * timings, so there is no peer: the figures are the ones issues 10 and 11 set goals for
 * (runtime ≥ 80%, static ≥ 90%, controls 0). CORPUS_BENCH_ONLY=substring limits the cases.
 */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { figure } from "./harness.js";

const root = resolve(import.meta.dirname, "..");
const only = process.env.CORPUS_BENCH_ONLY ? ["--only", process.env.CORPUS_BENCH_ONLY] : [];
const r = spawnSync(process.execPath, [join(root, "corpus", "score.mjs"), "--summary", ...only], {
  cwd: root,
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
});
if (r.status !== 0) {
  process.stderr.write(r.stdout);
  process.exit(1);
}
const out = r.stdout;
const grab = (re: RegExp) => out.match(re)?.[1] ?? "not measured";
figure("corpus", grab(/^corpus: (.*)$/m));
figure("runtime doctor, right class and line (goal ≥ 80%)", grab(/^runtime doctor: (.*)$/m));
figure("static checker, right class and line (goal ≥ 90%)", grab(/^static checker: (.*)$/m));
figure("controls with a finding (goal 0)", grab(/^controls with a finding: (.*)$/m));
