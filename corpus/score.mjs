// Scores asyncdoctor against the corpus of reproduced real bug reports (corpus/cases/*).
//
//   node corpus/score.mjs [--only <substring>]... [--jobs N] [--timeout MS] [--no-runtime]
//                         [--no-static] [--json <file>] [--summary]
//
// For each case: runs `asyncdoctor run --report <tmp>.json <main>` with a hard time limit
// (SIGTERM to `run` after --timeout ms plus what an empty program takes under `run` at the
// moment, as `docker stop` or systemd would; SIGTERM to its whole
// process group 2 s later, as a terminal's Ctrl-C would; SIGKILL 2 s after that), reads the
// Diagnosis records of the report, and runs `asyncdoctor check --format json` once over all
// cases. A bug case is a runtime (static) hit when every expected entry is matched by a finding
// of that rule (or one of the rules listed) whose site, or the site of one of its subjects (a
// cycle's edges, a stuck chain's steps, where a rejected promise was dropped), is that line of
// the case's main file and, where the entry lists names, whose summary or subjects mention each
// name. A
// control counts when it gets any finding at all. Prints a table per case and the totals.
// Installs the corpus's own dependencies when missing (npm ci --prefix corpus) and starts the
// servers the cases need (corpus/servers.mjs); a case whose server cannot start is skipped.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { mainFile } from "./lines.mjs";
import { SERVER_KINDS, startServers } from "./servers.mjs";

const corpusDir = fileURLToPath(new URL("./", import.meta.url));
const casesDir = join(corpusDir, "cases");
const rootDir = resolve(corpusDir, "..");
const cli = join(rootDir, "bin", "asyncdoctor.js");

function parseArgs(argv) {
  const opts = { only: [], jobs: 2, timeout: 6000, runtime: true, static: true, json: undefined, summary: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === "--only") opts.only.push(value());
    else if (a === "--jobs") opts.jobs = positive(a, value());
    else if (a === "--timeout") opts.timeout = positive(a, value());
    else if (a === "--no-runtime") opts.runtime = false;
    else if (a === "--no-static") opts.static = false;
    else if (a === "--json") opts.json = resolve(value());
    else if (a === "--summary") opts.summary = true;
    else usage(`unknown argument ${JSON.stringify(a)}`);
  }
  return opts;
}

function positive(name, v) {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) usage(`${name}: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function usage(msg) {
  process.stderr.write(
    `corpus/score.mjs: ${msg}\nusage: node corpus/score.mjs [--only <substring>] [--jobs N] [--timeout MS] [--no-runtime] [--no-static] [--json <file>] [--summary]\n`,
  );
  process.exit(2);
}

/** Every case directory with its case.json and main file. */
export function loadCases() {
  return readdirSync(casesDir)
    .sort()
    .filter((id) => existsSync(join(casesDir, id, "case.json")))
    .map((id) => {
      const dir = join(casesDir, id);
      const spec = JSON.parse(readFileSync(join(dir, "case.json"), "utf8"));
      const file = mainFile(dir);
      return { id, dir, spec, main: file ? join(dir, file) : undefined };
    });
}

function ensureDeps() {
  if (existsSync(join(corpusDir, "node_modules"))) return;
  process.stderr.write("installing the corpus's dependencies (npm ci --prefix corpus)…\n");
  const r = spawnSync("npm", ["ci", "--prefix", corpusDir, "--no-audit", "--no-fund"], { stdio: "inherit" });
  if (r.status !== 0) {
    process.stderr.write("corpus/score.mjs: npm ci --prefix corpus failed\n");
    process.exit(2);
  }
}

function ensureBuilt() {
  if (!existsSync(join(rootDir, "dist"))) {
    process.stderr.write("corpus/score.mjs: asyncdoctor is not built (dist/ is missing); run `npm run build` first, or `npm run corpus`\n");
    process.exit(2);
  }
}

/** Runs one case under the runtime doctor with a hard time limit. */
function runCase(c, env, timeout) {
  return new Promise((done) => {
    const tmp = mkdtempSync(join(tmpdir(), "corpus-run-"));
    const report = join(tmp, "report.json");
    const started = Date.now();
    const child = spawn(process.execPath, [cli, "run", "--report", report, c.main], {
      cwd: c.dir,
      env: { ...process.env, ...env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    const keep = (chunk) => {
      if (output.length < 20_000) output += chunk;
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let stage = "exited";
    const group = (sig) => {
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is gone already
      }
    };
    const timers = [
      setTimeout(() => {
        stage = "after SIGTERM to run";
        child.kill("SIGTERM");
      }, timeout),
      setTimeout(() => {
        stage = "after SIGTERM to group";
        group("SIGTERM");
      }, timeout + 2000),
      setTimeout(() => {
        stage = "killed by SIGKILL";
        group("SIGKILL");
      }, timeout + 4000),
    ];
    child.on("exit", (code, signal) => {
      for (const t of timers) clearTimeout(t);
      // whatever the program left running in its group goes with it
      group("SIGKILL");
      let diagnoses;
      let reportError;
      try {
        const parsed = JSON.parse(readFileSync(report, "utf8"));
        diagnoses = Array.isArray(parsed.diagnoses) ? parsed.diagnoses : [];
      } catch (err) {
        reportError = existsSync(report) ? `unreadable report: ${err.message}` : "no report written";
      }
      rmSync(tmp, { recursive: true, force: true });
      done({ code, signal, stage, ms: Date.now() - started, diagnoses: diagnoses ?? [], reportError, output });
    });
  });
}

/** How long `asyncdoctor run` takes for an empty program on this machine now (ms). */
async function calibrate() {
  const dir = mkdtempSync(join(tmpdir(), "corpus-baseline-"));
  writeFileSync(join(dir, "main.ts"), "export const nothing: number = 0;\n");
  const r = await runCase({ dir, main: join(dir, "main.ts") }, {}, 30_000);
  rmSync(dir, { recursive: true, force: true });
  return r.ms;
}

/** Runs `asyncdoctor check` once over the selected cases; findings grouped by file. */
function runCheck(cases) {
  const tsconfig = join(corpusDir, "tsconfig.json");
  const config = join(corpusDir, "asyncdoctor.config.json");
  const r = spawnSync(process.execPath, [cli, "check", "--format", "json", "-p", tsconfig, "-c", config, ...cases.map((c) => c.main)], {
    cwd: corpusDir,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: "1" },
  });
  let parsed;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    return { error: `check exited ${r.status} without JSON: ${(r.stderr || r.stdout).slice(0, 400)}`, byFile: new Map() };
  }
  const byFile = new Map();
  for (const d of parsed.diagnoses ?? []) {
    const f = d.site?.file ? resolve(corpusDir, d.site.file) : "";
    if (!byFile.has(f)) byFile.set(f, []);
    byFile.get(f).push(d);
  }
  return { error: undefined, byFile };
}

const sameFile = (site, main) => site?.file !== undefined && resolve(site.file) === resolve(main);

function mentions(d, name) {
  const text = [d.summary ?? "", ...(d.subjects ?? []).map((s) => `${s.name ?? ""} ${s.kind ?? ""}`)].join(" ").toLowerCase();
  return text.includes(String(name).toLowerCase());
}

/** True when some finding matches the expected entry: its rule, its line, its names. */
export function matches(entry, diagnoses, main) {
  const rules = Array.isArray(entry.rule) ? entry.rule : [entry.rule];
  const at = (site) => sameFile(site, main) && site.line === entry.line;
  return diagnoses.some(
    (d) => rules.includes(d.rule) && (at(d.site) || (d.subjects ?? []).some((s) => at(s.site))) && (entry.names ?? []).every((n) => mentions(d, n)),
  );
}

function describe(diagnoses, main) {
  if (diagnoses.length === 0) return "nothing";
  return diagnoses
    .map((d) => {
      const where = d.site?.file ? (sameFile(d.site, main) ? `:${d.site.line}` : ` ${basename(String(d.site.file))}:${d.site.line}`) : "";
      return `${d.rule}${where}`;
    })
    .join(", ");
}

async function pool(items, jobs, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

const pct = (n, d) => (d === 0 ? "n/a" : `${((100 * n) / d).toFixed(0)}%`);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  ensureDeps();
  ensureBuilt();
  let cases = loadCases();
  if (opts.only.length > 0) cases = cases.filter((c) => opts.only.some((s) => c.id.includes(s)));
  if (cases.length === 0) usage("no case matched");
  const bad = cases.filter((c) => !c.main);
  if (bad.length > 0) usage(`no main file in ${bad.map((c) => c.id).join(", ")}`);

  const needs = [...new Set(cases.flatMap((c) => c.spec.needs ?? []))].filter((k) => SERVER_KINDS.includes(k));
  const servers = opts.runtime ? await startServers(needs) : { env: {}, missing: {}, stop: () => {} };
  // a loaded machine makes every case slower to start: the limit counts from what an empty
  // program takes under the doctor right now
  const baseline = opts.runtime ? await calibrate() : 0;
  const limit = opts.timeout + baseline;
  if (opts.runtime && !opts.summary)
    process.stderr.write(`an empty program takes ${baseline} ms under asyncdoctor run here; each case gets ${limit} ms before SIGTERM\n`);
  const t0 = Date.now();
  const results = opts.runtime
    ? await pool(cases, opts.jobs, async (c) => {
        const lacking = (c.spec.needs ?? []).filter((k) => servers.missing[k] !== undefined || !SERVER_KINDS.includes(k));
        if (lacking.length > 0)
          return { skipped: `needs ${lacking.join(", ")}: ${lacking.map((k) => servers.missing[k] ?? "unknown server kind").join("; ")}` };
        const r = await runCase(c, servers.env, limit);
        if (!opts.summary) process.stderr.write(`  ran ${c.id} (${r.ms} ms, ${r.stage === "exited" ? `exit ${r.code ?? r.signal}` : r.stage})\n`);
        return r;
      })
    : cases.map(() => undefined);
  servers.stop();
  const runtimeMs = Date.now() - t0;
  const t1 = Date.now();
  const check = opts.static ? runCheck(cases) : { error: undefined, byFile: new Map() };
  const staticMs = Date.now() - t1;

  const rows = [];
  const tally = { runtime: { hit: 0, of: 0 }, static: { hit: 0, of: 0 }, controls: { of: 0, runtime: 0, static: 0, any: 0 }, skipped: 0 };
  cases.forEach((c, i) => {
    const r = results[i];
    const found = check.byFile.get(resolve(c.main)) ?? [];
    const row = { id: c.id, kind: c.spec.kind, report: c.spec.report, runtime: "-", static: "-", ended: "-", runtimeFound: "", staticFound: "" };
    if (r?.skipped) {
      row.runtime = "skipped";
      row.runtimeFound = r.skipped;
      tally.skipped++;
    } else if (r) {
      const how = r.signal ? `signal ${r.signal}` : `exit ${r.code}`;
      row.ended = r.stage === "exited" ? how : r.stage === "killed by SIGKILL" ? r.stage : `${how} ${r.stage}`;
      row.runtimeFound = r.reportError ? `${r.reportError}; ${describe(r.diagnoses, c.main)}` : describe(r.diagnoses, c.main);
    }
    row.staticFound = opts.static ? (check.error ? check.error : describe(found, c.main)) : "";
    if (c.spec.kind === "control") {
      tally.controls.of++;
      const rt = r && !r.skipped && r.diagnoses.length > 0;
      const st = opts.static && found.length > 0;
      if (rt) tally.controls.runtime++;
      if (st) tally.controls.static++;
      if (rt || st) tally.controls.any++;
      if (r && !r.skipped) row.runtime = rt ? "FINDING" : "silent";
      if (opts.static) row.static = st ? "FINDING" : "silent";
    } else {
      const rtExpected = c.spec.expected?.runtime ?? [];
      const stExpected = c.spec.expected?.static ?? [];
      if (r && !r.skipped && rtExpected.length > 0) {
        tally.runtime.of++;
        const hit = rtExpected.every((e) => matches(e, r.diagnoses, c.main));
        if (hit) tally.runtime.hit++;
        row.runtime = hit ? "HIT" : "miss";
      } else if (r && !r.skipped) row.runtime = "n/a";
      if (opts.static && stExpected.length > 0) {
        tally.static.of++;
        const hit = !check.error && stExpected.every((e) => matches(e, found, c.main));
        if (hit) tally.static.hit++;
        row.static = hit ? "HIT" : "miss";
      } else if (opts.static) row.static = "n/a";
    }
    rows.push(row);
  });

  if (!opts.summary) {
    const w = Math.max(...rows.map((r) => r.id.length));
    console.log(`${"case".padEnd(w)}  kind     runtime  static   ended                     runtime found | static found`);
    for (const r of rows) {
      console.log(
        `${r.id.padEnd(w)}  ${r.kind.padEnd(7)}  ${r.runtime.padEnd(7)}  ${r.static.padEnd(7)}  ${r.ended.padEnd(24)}  ${r.runtimeFound || "-"} | ${r.staticFound || "-"}`,
      );
    }
    console.log("");
  }
  const bugs = cases.filter((c) => c.spec.kind !== "control").length;
  console.log(`corpus: ${bugs} bug cases, ${tally.controls.of} controls${tally.skipped ? `, ${tally.skipped} skipped (server missing)` : ""}`);
  if (opts.runtime)
    console.log(
      `runtime doctor: ${tally.runtime.hit}/${tally.runtime.of} bug cases diagnosed at the right class and line (${pct(tally.runtime.hit, tally.runtime.of)}) in ${(runtimeMs / 1000).toFixed(0)} s`,
    );
  if (opts.static)
    console.log(
      `static checker: ${tally.static.hit}/${tally.static.of} bug cases found at the right class and line (${pct(tally.static.hit, tally.static.of)}) in ${(staticMs / 1000).toFixed(0)} s${check.error ? ` (check failed: ${check.error})` : ""}`,
    );
  console.log(
    `controls with a finding: ${tally.controls.any}/${tally.controls.of} (runtime ${tally.controls.runtime}, static ${tally.controls.static}; goal 0)`,
  );
  if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ tally, rows }, null, 2)}\n`);
  if (!opts.summary) console.log(`(cases run from ${relative(process.cwd(), casesDir) || "."})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((err) => {
    process.stderr.write(`corpus/score.mjs: ${err.stack ?? err}\n`);
    process.exit(2);
  });
}
