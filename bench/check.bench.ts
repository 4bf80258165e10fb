/**
 * `asyncdoctor check` against ESLint running typescript-eslint's no-floating-promises and
 * no-misused-promises (the two rules that cover what asyncdoctor's promise rules do), on a
 * real TypeScript codebase that uses promises: the OpenAI Node SDK, whose package ships its
 * TypeScript sources (node_modules/openai/src, ~97,000 lines). Both tools run as the user runs
 * them (a fresh process, the same files, the same tsconfig), alternately, several times; the
 * figure is the median ratio of wall times. Then the findings are compared: ours must include
 * every floating promise ESLint reports.
 *
 * The tsc-style whole-program cost (parse, bind, type queries) is shared by both; what differs
 * is ESLint's ESTree conversion and traversal against our direct walk of the TypeScript AST.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { figure } from "./harness.js";

const root = resolve(import.meta.dirname, "..");
const corpus = join(root, ".bench", "openai-corpus");
const rounds = Number(process.env.CHECK_BENCH_ROUNDS ?? 3);

function prepareCorpus(): void {
  // ESLint skips node_modules, so both tools check a copy of the package's sources
  rmSync(corpus, { recursive: true, force: true });
  mkdirSync(corpus, { recursive: true });
  cpSync(join(root, "node_modules", "openai", "src"), join(corpus, "src"), { recursive: true });
  rmSync(join(corpus, "src", "tsconfig.json"), { force: true });
  // the corpus sits inside this repository: its own (default) configuration, not the one the
  // repository keeps for checking its demos
  writeFileSync(join(corpus, "asyncdoctor.config.json"), "{}\n");
  writeFileSync(
    join(corpus, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: ["DOM", "DOM.Iterable", "ES2023"],
          module: "ESNext",
          moduleResolution: "bundler",
          strict: true,
          skipLibCheck: true,
          noEmit: true,
          types: ["node"],
        },
        include: ["src/**/*.ts"],
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(corpus, "eslint.config.mjs"),
    `import tseslint from "typescript-eslint";
export default [{
  files: ["**/*.ts"],
  languageOptions: { parser: tseslint.parser, parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname } },
  plugins: { "@typescript-eslint": tseslint.plugin },
  linterOptions: { reportUnusedDisableDirectives: "off" },
  rules: { "@typescript-eslint/no-floating-promises": "error", "@typescript-eslint/no-misused-promises": "error" },
}];
`,
  );
}

function countLines(dir: string): { files: number; lines: number } {
  let files = 0;
  let lines = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      const r = countLines(p);
      files += r.files;
      lines += r.lines;
    } else if (name.endsWith(".ts")) {
      files++;
      lines += readFileSync(p, "utf8").split("\n").length;
    }
  }
  return { files, lines };
}

interface Run {
  /** Wall time. */
  readonly ms: number;
  /** CPU time (user + system) of the process: steadier than wall time on a shared machine. */
  readonly cpuMs: number;
  readonly stdout: string;
}

// each child reports its own CPU time on stderr as it exits
const cpuHook = `--import=data:text/javascript,${encodeURIComponent("process.on('exit',()=>{const u=process.cpuUsage();process.stderr.write('\\ncpu-ms:'+(u.user+u.system)/1000+'\\n')})")}`;

function time(args: readonly string[], cwd: string): Run {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cpuHook, ...args], { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const cpu = /cpu-ms:([\d.]+)/.exec(r.stderr);
  return { ms, cpuMs: cpu ? Number(cpu[1]) : NaN, stdout: r.stdout };
}

const ours = () => time([join(root, "bin", "asyncdoctor.js"), "check", "--project", "tsconfig.json", "--format", "json"], corpus);
const oursFloatingOnly = () =>
  time(
    [join(root, "bin", "asyncdoctor.js"), "check", "--project", "tsconfig.json", "--format", "json", "--rule", "floating-promise,unawaited-aggregate"],
    corpus,
  );
const peer = () => time([join(root, "node_modules", "eslint", "bin", "eslint.js"), "--format", "json", "--no-inline-config", "."], corpus);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

if (!existsSync(join(root, "node_modules", "openai", "src"))) throw new Error("the bench corpus (devDependency openai) is not installed");
prepareCorpus();
const size = countLines(join(corpus, "src"));
const openaiPkg = JSON.parse(readFileSync(join(root, "node_modules", "openai", "package.json"), "utf8")) as { version: string };
figure("corpus", `openai ${openaiPkg.version} sources: ${size.files} files, ${size.lines} lines`);

const ratios: number[] = [];
const floatingRatios: number[] = [];
const cpuRatios: number[] = [];
let last: { ours?: Run; peer?: Run } = {};
for (let i = 0; i < rounds; i++) {
  // alternate which goes first, so neither always runs on a warmer machine
  const a = i % 2 === 0 ? ours() : undefined;
  const p = peer();
  const o = a ?? ours();
  const f = oursFloatingOnly();
  ratios.push(o.ms / p.ms);
  floatingRatios.push(f.ms / p.ms);
  cpuRatios.push(o.cpuMs / p.cpuMs);
  figure(
    `round ${i + 1}`,
    `asyncdoctor check ${(o.ms / 1000).toFixed(2)} s wall / ${(o.cpuMs / 1000).toFixed(2)} s CPU (floating rules only ${(f.ms / 1000).toFixed(2)} s wall), eslint no-floating-promises + no-misused-promises ${(p.ms / 1000).toFixed(2)} s wall / ${(p.cpuMs / 1000).toFixed(2)} s CPU`,
  );
  last = { ours: o, peer: p };
}
const ratio = median(ratios);
figure(
  "asyncdoctor check (all rules) / eslint (typescript-eslint's two promise rules), wall time",
  `${ratio.toFixed(2)}x (median of ${rounds}; target <= 0.5x: ${ratio <= 0.5 ? "met" : "NOT met"})`,
);
const cpuRatio = median(cpuRatios);
figure(
  "asyncdoctor check (all rules) / eslint (typescript-eslint's two promise rules), CPU time",
  `${cpuRatio.toFixed(2)}x (target <= 0.5x: ${cpuRatio <= 0.5 ? "met" : "NOT met"})`,
);
figure("asyncdoctor check (floating-promise + unawaited-aggregate) / eslint (the two rules), wall time", `${median(floatingRatios).toFixed(2)}x`);

// the findings, side by side: file:line of each floating promise
const oursDoc = JSON.parse(last.ours!.stdout) as { diagnoses: { rule: string; summary: string; site: { file: string; line: number } }[] };
const peerDoc = JSON.parse(last.peer!.stdout) as { filePath: string; messages: { ruleId: string | null; line: number; message: string }[] }[];
const key = (file: string, line: number) => `${relative(corpus, file)}:${line}`;
const theirs = new Set(
  peerDoc.flatMap((f) => f.messages.filter((m) => m.ruleId === "@typescript-eslint/no-floating-promises").map((m) => key(f.filePath, m.line))),
);
const oursFloating = oursDoc.diagnoses.filter((d) => d.rule === "floating-promise" || d.rule === "unawaited-aggregate");
const mine = new Set(oursFloating.map((d) => key(d.site.file, d.site.line)));
const missed = [...theirs].filter((k) => !mine.has(k));
const extra = oursFloating.filter((d) => !theirs.has(key(d.site.file, d.site.line)));
figure("floating promises found by eslint no-floating-promises", String(theirs.size));
figure("floating promises found by asyncdoctor (floating-promise + unawaited-aggregate)", String(mine.size));
figure("of eslint's, missed by asyncdoctor", missed.length === 0 ? "none" : missed.join(", "));
figure("found by asyncdoctor only", extra.length === 0 ? "none" : "");
const misused = peerDoc.flatMap((f) => f.messages.filter((m) => m.ruleId === "@typescript-eslint/no-misused-promises").map((m) => key(f.filePath, m.line)));
const callbackFindings = new Set(oursDoc.diagnoses.filter((d) => d.rule === "async-callback-misuse").map((d) => key(d.site.file, d.site.line)));
figure("misused promises found by eslint no-misused-promises", String(misused.length));
figure("of those, also found by asyncdoctor async-callback-misuse", String(misused.filter((k) => callbackFindings.has(k)).length));
for (const k of misused.filter((m) => !callbackFindings.has(m))) figure(`  eslint only: ${k}`, "no-misused-promises");
for (const d of extra) figure(`  ${key(d.site.file, d.site.line)}`, `${d.rule}: ${d.summary}`);
const others = oursDoc.diagnoses.filter((d) => d.rule !== "floating-promise" && d.rule !== "unawaited-aggregate");
figure("other asyncdoctor findings on the corpus", String(others.length));
for (const d of others) figure(`  ${key(d.site.file, d.site.line)}`, `${d.rule}: ${d.summary}`);
