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
  const dir = tempProject({ "src/bad.ts": FLOATING, "src/good.ts": CLEAN, "tsconfig.json": `{"compilerOptions":{"strict":true,"target":"ES2022","module":"NodeNext"},"include":["src"]}` });

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
    assert.deepEqual(json.diagnoses.map((d) => [d.rule, d.site.line]), [["floating-promise", 3]]);
    const sarif = JSON.parse(cli(dir, "check", "--format", "sarif").stdout) as { version: string; runs: { results: { ruleId: string }[] }[] };
    assert.equal(sarif.version, "2.1.0");
    assert.deepEqual(sarif.runs[0]!.results.map((r) => r.ruleId), ["floating-promise"]);
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
    for (const id of ["floating-promise", "unawaited-aggregate", "async-callback-misuse", "missing-timeout", "unclosed-resource"]) assert.match(r.stdout, new RegExp(`^${id} `, "m"));
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
});
