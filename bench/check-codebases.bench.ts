/**
 * `asyncdoctor check` on real TypeScript codebases it obtains itself from the npm registry at
 * bench time (packages that ship their TypeScript sources: `npm pack`, then `package/src`),
 * against ESLint running typescript-eslint's no-floating-promises and no-misused-promises on the
 * same files with the same tsconfig. Each tool runs as the user runs it (a fresh process),
 * alternately; the figure is the median ratio of CPU times, per codebase (target <= 0.5x). Also
 * printed: lines, findings per rule and per 10,000 lines, and each lock, race and transaction
 * finding with its place, for judging (the judged table for the codebases fetched from GitHub
 * is docs/measurements/codebases.md). Nothing of these packages is kept in the repository:
 * they live in .bench/codebases/.
 *
 * `CHECK_CODEBASE_DIRS=/a/kysely,/b/grammY` adds codebases already on disk (a checkout with its
 * TypeScript under src/, such as the five of docs/measurements/codebases.md): each src/ is copied
 * to .bench/codebases/ and measured the same way. `CHECK_CODEBASES=` (empty) leaves out the npm ones.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { figure } from "./harness.js";

const root = resolve(import.meta.dirname, "..");
const dir = join(root, ".bench", "codebases");
const rounds = Number(process.env.CHECK_CODEBASES_ROUNDS ?? 3);
/** Packages whose npm tarballs carry their TypeScript sources under src/ (pinned, so runs compare). */
const PACKAGES = (
  process.env.CHECK_CODEBASES ??
  "@supabase/auth-js@2.109.0,@supabase/realtime-js@2.109.0,@supabase/storage-js@2.109.0,@supabase/postgrest-js@2.109.0,openai@6.49.0"
)
  .split(",")
  .filter((s) => s.length > 0);
const DIRS = (process.env.CHECK_CODEBASE_DIRS ?? "").split(",").filter((s) => s.length > 0);
const OWN_RULES = new Set([
  "nested-acquire",
  "lock-order",
  "pool-nested-acquire",
  "read-await-write",
  "transaction-client-misuse",
  "check-then-act",
  "load-modify-save",
]);

function obtain(spec: string): string {
  const name = spec
    .replace(/@[^@/]+$/, "")
    .replace(/^@/, "")
    .replace("/", "+");
  const target = join(dir, name);
  if (existsSync(join(target, "package", "src"))) return join(target, "package");
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const pack = spawnSync("npm", ["pack", spec, "--silent", "--pack-destination", target], { cwd: target, encoding: "utf8" });
  if (pack.status !== 0) throw new Error(`npm pack ${spec} failed: ${pack.stderr}`);
  const tgz = readdirSync(target).find((f) => f.endsWith(".tgz"));
  if (!tgz) throw new Error(`npm pack ${spec} left no tarball`);
  const untar = spawnSync("tar", ["-xzf", tgz], { cwd: target, encoding: "utf8" });
  if (untar.status !== 0) throw new Error(`tar ${tgz} failed: ${untar.stderr}`);
  const pkg = join(target, "package");
  if (!existsSync(join(pkg, "src"))) throw new Error(`${spec} ships no src/`);
  configure(pkg);
  return pkg;
}

/** A codebase on disk: its src/ copied under .bench/codebases/ (so both tools resolve this repository's node_modules, as for the npm ones). */
function copyDir(source: string): string {
  const src = join(resolve(source), "src");
  if (!existsSync(src)) throw new Error(`CHECK_CODEBASE_DIRS: ${source} has no src/ directory (expected a checkout with its TypeScript under src/)`);
  const pkg = join(dir, `dir+${basename(resolve(source))}`, "package");
  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(pkg, { recursive: true });
  cpSync(src, join(pkg, "src"), { recursive: true });
  configure(pkg);
  return pkg;
}

function configure(pkg: string): void {
  // its own configuration files would change what either tool does: both get the same fresh ones
  writeFileSync(
    join(pkg, "tsconfig.bench.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["DOM", "DOM.Iterable", "ES2023"],
        module: "ESNext",
        moduleResolution: "bundler",
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        allowImportingTsExtensions: true,
        // the Node.js API these codebases call (events, streams, timers), typed as they use it
        types: ["node"],
      },
      include: ["src/**/*.ts"],
    }),
  );
  writeFileSync(join(pkg, "asyncdoctor.config.json"), "{}\n");
  writeFileSync(
    join(pkg, "eslint.config.mjs"),
    `import tseslint from ${JSON.stringify(join(root, "node_modules", "typescript-eslint", "dist", "index.js"))};
export default [{
  files: ["src/**/*.ts"],
  languageOptions: { parser: tseslint.parser, parserOptions: { project: "./tsconfig.bench.json", tsconfigRootDir: import.meta.dirname } },
  plugins: { "@typescript-eslint": tseslint.plugin },
  linterOptions: { reportUnusedDisableDirectives: "off" },
  rules: { "@typescript-eslint/no-floating-promises": "error", "@typescript-eslint/no-misused-promises": "error" },
}];
`,
  );
}

function countLines(d: string): number {
  let lines = 0;
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) lines += countLines(p);
    else if (/\.tsx?$/.test(name) && !/\.d\.ts$/.test(name)) lines += readFileSync(p, "utf8").split("\n").length;
  }
  return lines;
}

interface Run {
  readonly cpuMs: number;
  readonly stdout: string;
}

// each child reports its own CPU time on stderr as it exits
const cpuHook = `--import=data:text/javascript,${encodeURIComponent("process.on('exit',()=>{const u=process.cpuUsage();process.stderr.write('\\ncpu-ms:'+(u.user+u.system)/1000+'\\n')})")}`;

function run(args: readonly string[], cwd: string): Run {
  const r = spawnSync(process.execPath, [cpuHook, ...args], { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const cpu = /cpu-ms:([\d.]+)/.exec(r.stderr);
  return { cpuMs: cpu ? Number(cpu[1]) : NaN, stdout: r.stdout };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

interface Diagnosis {
  readonly rule: string;
  readonly certainty: string;
  readonly summary: string;
  readonly site: { readonly file: string; readonly line: number };
}

// ASYNCDOCTOR_BIN: another build's command, to compare two states of the checker on the same codebases
const bin = process.env.ASYNCDOCTOR_BIN ? resolve(process.env.ASYNCDOCTOR_BIN) : join(root, "bin", "asyncdoctor.js");
if (!existsSync(join(root, "dist", "esm", "src", "cli", "main.js"))) throw new Error("build first (npm run bench builds)");
mkdirSync(dir, { recursive: true });
let totalLines = 0;
let totalOwn = 0;
const allRatios: number[] = [];
const codebases = [
  ...PACKAGES.map((spec) => ({ spec, obtain: () => obtain(spec) })),
  ...DIRS.map((d) => ({ spec: basename(resolve(d)), obtain: () => copyDir(d) })),
];
for (const { spec, obtain: get } of codebases) {
  const pkg = get();
  const lines = countLines(join(pkg, "src"));
  totalLines += lines;
  const ours = () => run([bin, "check", "--project", "tsconfig.bench.json", "--format", "json"], pkg);
  const peer = () => run([join(root, "node_modules", "eslint", "bin", "eslint.js"), "--format", "json", "--no-inline-config", "src"], pkg);
  const ratios: number[] = [];
  const oursCpu: number[] = [];
  const peerCpu: number[] = [];
  let last: Run | undefined;
  for (let i = 0; i < rounds; i++) {
    // alternate which goes first, so neither always runs on a warmer machine
    const first = i % 2 === 0 ? ours() : undefined;
    const p = peer();
    const o = first ?? ours();
    ratios.push(o.cpuMs / p.cpuMs);
    oursCpu.push(o.cpuMs);
    peerCpu.push(p.cpuMs);
    last = o;
  }
  const ratio = median(ratios);
  allRatios.push(ratio);
  const doc = JSON.parse(last!.stdout) as { diagnoses: Diagnosis[] };
  const byRule = new Map<string, number>();
  for (const d of doc.diagnoses) byRule.set(d.rule, (byRule.get(d.rule) ?? 0) + 1);
  const own = doc.diagnoses.filter((d) => OWN_RULES.has(d.rule));
  totalOwn += own.length;
  figure(
    `${spec}`,
    `${lines} lines; CPU asyncdoctor check / eslint (no-floating-promises + no-misused-promises) ${ratio.toFixed(2)}x (${(median(oursCpu) / 1000).toFixed(2)} s / ${(median(peerCpu) / 1000).toFixed(2)} s, medians of ${rounds}; target <= 0.5x: ${ratio <= 0.5 ? "met" : "NOT met"})`,
  );
  figure(
    `  findings`,
    `${doc.diagnoses.length} (${((doc.diagnoses.length / lines) * 10000).toFixed(1)} per 10,000 lines): ${[...byRule].map(([r, n]) => `${r} ${n}`).join(", ") || "none"}`,
  );
  for (const d of own) figure(`  ${d.rule} (${d.certainty})`, `${relative(pkg, d.site.file)}:${d.site.line} ${d.summary.slice(0, 160)}`);
}
figure(
  "all codebases",
  `${totalLines} lines; lock, race and transaction findings ${totalOwn} (${((totalOwn / totalLines) * 10000).toFixed(2)} per 10,000 lines); CPU ratio ${Math.min(...allRatios).toFixed(2)}–${Math.max(...allRatios).toFixed(2)}x`,
);
