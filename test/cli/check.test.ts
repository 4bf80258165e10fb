import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { FLOATING, CLEAN, tempProject } from "../check/helpers.js";

const runner = fileURLToPath(new URL("./fixtures/run-cli.ts", import.meta.url));
const tsx = import.meta.resolve("tsx");

function cli(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", tsx, runner, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("asyncdoctor check (CLI)", () => {
  const dir = tempProject({
    "src/bad.ts": FLOATING,
    "src/good.ts": CLEAN,
    "tsconfig.json": `{"compilerOptions":{"strict":true,"target":"ES2022","module":"NodeNext"},"include":["src"]}`,
  });

  it("prints each finding with certainty, rule, code frame and fix, and exits 1", () => {
    const r = cli(dir, "check");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^PROVEN floating promise \[floating-promise\] \(error\)$/m);
    assert.match(r.stdout, /at src\/bad\.ts:3:3 \(in f\)/);
    assert.match(r.stdout, /> 3 \| {3}save\("a"\);\n +\| {3}\^/);
    assert.match(r.stdout, /fix: `await` it/);
    assert.match(r.stdout, /1 finding \(1 error, 0 warnings\) in 2 files\./);
    assert.equal(r.stderr, "", "no progress when stderr is not a TTY");
  });

  it("exits 0 on clean code", () => {
    const r = cli(dir, "check", "src/good.ts");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /no findings in 1 file\./);
  });

  it("writes JSON and SARIF", () => {
    const json = JSON.parse(cli(dir, "check", "--format", "json").stdout) as { diagnoses: { rule: string; site: { line: number } }[] };
    assert.deepEqual(
      json.diagnoses.map((d) => [d.rule, d.site.line]),
      [["floating-promise", 3]],
    );
    const sarif = JSON.parse(cli(dir, "check", "--format", "sarif").stdout) as { version: string; runs: { results: { ruleId: string }[] }[] };
    assert.equal(sarif.version, "2.1.0");
    assert.deepEqual(
      sarif.runs[0]!.results.map((r) => r.ruleId),
      ["floating-promise"],
    );
  });

  it("runs only the rules asked for, with paths after the option", () => {
    const r = cli(dir, "check", "--rule", "missing-timeout", "src");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const both = cli(dir, "check", "--rule", "missing-timeout,floating-promise", "src/bad.ts");
    assert.equal(both.code, 1, both.stdout + both.stderr);
    const repeated = cli(dir, "check", "-r", "missing-timeout", "-r", "floating-promise", "src/bad.ts");
    assert.equal(repeated.code, 1, repeated.stdout + repeated.stderr);
  });

  it("lists the rules", () => {
    const r = cli(dir, "check", "--list-rules");
    for (const id of ["floating-promise", "unawaited-aggregate", "async-callback-misuse", "missing-timeout", "unclosed-resource"])
      assert.match(r.stdout, new RegExp(`^${id} `, "m"));
  });

  it("rejects an unknown rule with exit 2", () => {
    const r = cli(dir, "check", "--rule", "nope");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown rule "nope"; known rules: floating-promise/);
  });

  it("reports a broken configuration with exit 2", () => {
    const broken = tempProject({ "a.ts": CLEAN, "asyncdoctor.config.json": `{"rules":{"floating-promise":"loud"}}` });
    const r = cli(broken, "check", "a.ts");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /broken configuration: .*asyncdoctor\.config\.json: rule "floating-promise": severity must be one of/);
  });

  it("reports a missing path on stderr, checks the rest, and exits 2 when nothing else is wrong", () => {
    const r = cli(dir, "check", "src/good.ts", "src/missing.ts");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /src\/missing\.ts: no such file or directory/);
    assert.match(r.stdout, /no findings in 1 file/);
  });

  it("--fail-on warning fails on warnings", () => {
    const w = tempProject({ "a.ts": `export async function f(u: string) {\n  return fetch(u);\n}\n` });
    assert.equal(cli(w, "check", "a.ts").code, 0);
    assert.equal(cli(w, "check", "a.ts", "--fail-on", "warning").code, 1);
  });

  it("keeps exit 2 for unusable input even when there are findings", () => {
    const r = cli(dir, "check", "src/bad.ts", "src/missing.ts");
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /1 finding/);
    const broken = tempProject({ "tsconfig.json": `{"compilerOptions": {"strict": true "x": 1}}`, "a.ts": FLOATING });
    const b = cli(broken, "check");
    assert.equal(b.code, 2, b.stdout + b.stderr);
    assert.match(b.stderr, /tsconfig\.json:1:\d+: ',' expected/);
  });

  it("exits 2 for a tsconfig whose include matches nothing", () => {
    const empty = tempProject({ "tsconfig.json": `{"include": ["nothing"]}`, "a.ts": CLEAN });
    const r = cli(empty, "check");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /No inputs were found/);
  });

  it("exits 2 for a -p that is missing, and checks nothing", () => {
    const r = cli(dir, "check", "-p", "nope.json");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.json: the tsconfig given with --project does not exist; nothing was checked/);
    assert.match(r.stdout, /in 0 files/);
  });

  it("exits 2 on usage errors", () => {
    const xml = cli(dir, "check", "--format", "xml");
    assert.equal(xml.code, 2);
    assert.match(xml.stderr, /argument 'xml' is invalid/);
    const flag = cli(dir, "check", "--bogus");
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown option '--bogus'/);
    const n = cli(dir, "check", "--max-warnings", "-1");
    assert.equal(n.code, 2);
    assert.match(n.stderr, /expected a whole number of warnings/);
  });

  it("prints its version", () => {
    const r = cli(dir, "--version");
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });

  it("--max-warnings fails when the warnings exceed it", () => {
    const w = tempProject({ "a.ts": `export async function f(u: string) {\n  return fetch(u);\n}\n` });
    assert.equal(cli(w, "check", "a.ts", "--max-warnings", "1").code, 0);
    const over = cli(w, "check", "a.ts", "--max-warnings", "0");
    assert.equal(over.code, 1);
    assert.match(over.stderr, /1 warning, more than --max-warnings 0/);
  });

  it("--report-only writes the report and exits 0 on findings, but 2 on unusable input", () => {
    const r = cli(dir, "check", "--report-only", "--format", "sarif");
    assert.equal(r.code, 0, r.stderr);
    const sarif = JSON.parse(r.stdout) as { runs: { results: unknown[] }[] };
    assert.equal(sarif.runs[0]!.results.length, 1);
    assert.equal(cli(dir, "check", "--report-only", "src/missing.ts").code, 2);
  });
});
