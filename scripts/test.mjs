// Runs every test/**/*.test.ts with node:test, TypeScript loaded through tsx.
// (Node 20's --test takes no globs, so the files are listed here.)
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function collect(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === "fixtures" || name === "node_modules") continue;
      collect(p, out);
    } else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = collect("test").sort();
if (filter.length > 0) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files matched ${filter.join(" ")}`);
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ["--expose-gc", "--import", "tsx", "--import", "./test/await-graph-setup.ts", "--test", "--test-reporter=spec", ...files],
  {
    stdio: "inherit",
    env: { ...process.env, NO_COLOR: "1" },
  },
);
process.exit(r.status ?? 1);
