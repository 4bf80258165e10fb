import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ESLint, Linter } from "eslint";
import tsParser from "@typescript-eslint/parser";
import plugin from "../../../src/check/eslint/plugin.js";
import { rules } from "../../../src/check/rules/index.js";
import { check } from "../../../src/check/runner.js";

const project = fileURLToPath(new URL("./fixtures/project/", import.meta.url));

function eslintFor(config: Linter.Config[]): ESLint {
  return new ESLint({
    cwd: project,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ["**/*.ts"],
        languageOptions: { parser: tsParser, parserOptions: { projectService: true, tsconfigRootDir: project } },
      },
      ...config,
    ],
  });
}

describe("ESLint plugin", () => {
  it("exposes every file-scoped rule and a recommended flat config", () => {
    const fileRules = rules.filter((r) => r.meta.scope === "file").map((r) => r.meta.id).sort();
    assert.deepEqual(Object.keys(plugin.rules ?? {}).sort(), fileRules);
    assert.deepEqual(Object.keys(plugin.configs.recommended.rules ?? {}).sort(), fileRules.map((id) => `asyncdoctor/${id}`));
    assert.equal(plugin.configs.recommended.plugins?.asyncdoctor, plugin);
    assert.equal(plugin.configs.recommended.rules?.["asyncdoctor/missing-timeout"], "warn");
  });

  it("reports through ESLint exactly what `asyncdoctor check` reports (one rule logic)", async () => {
    const [result] = await eslintFor([plugin.configs.recommended]).lintFiles(["src/jobs.ts"]);
    const viaEslint = result!.messages.map((m) => `${m.line}:${m.column} ${m.ruleId}`);
    assert.deepEqual(viaEslint, [
      "8:3 asyncdoctor/floating-promise",
      "9:3 asyncdoctor/unawaited-aggregate",
      "10:17 asyncdoctor/async-callback-misuse",
      "16:21 asyncdoctor/missing-timeout",
    ]);
    assert.equal(result!.messages[2]!.severity, 2);
    assert.equal(result!.messages[3]!.severity, 1);
    assert.match(result!.messages[0]!.message, /save\("first"\).*Fix: `await` it/);

    const cli = check({ cwd: project, project: "tsconfig.json" });
    assert.deepEqual(
      cli.diagnoses.map((d) => `${d.site!.line}:${d.site!.column} asyncdoctor/${d.rule}`),
      viaEslint,
    );
  });

  it("passes rule options through", async () => {
    const [result] = await eslintFor([
      { plugins: { asyncdoctor: plugin }, rules: { "asyncdoctor/missing-timeout": ["error", { wrappers: ["download"] }], "asyncdoctor/floating-promise": "error" } },
    ]).lintFiles(["src/jobs.ts"]);
    assert.deepEqual(result!.messages.map((m) => m.ruleId), ["asyncdoctor/floating-promise", "asyncdoctor/missing-timeout"]);
  });

  it("loads as asyncdoctor/eslint from the built package, through import and require()", () => {
    const esm = execFileSync(process.execPath, ["--input-type=module", "-e", "const p = (await import('asyncdoctor/eslint')).default; console.log(Object.keys(p.rules).length, Object.keys(p.configs.recommended.rules).length)"], { encoding: "utf8" });
    const cjs = execFileSync(process.execPath, ["-e", "const p = require('asyncdoctor/eslint').default; console.log(Object.keys(p.rules).length, Object.keys(p.configs.recommended.rules).length)"], { encoding: "utf8" });
    const n = rules.filter((r) => r.meta.scope === "file").length;
    assert.equal(esm.trim(), `${n} ${n}`);
    assert.equal(cjs.trim(), `${n} ${n}`);
  });

  it("says clearly when type information is missing", () => {
    const linter = new Linter({ configType: "flat" });
    // as typescript-eslint's own typed rules do, it stops the lint with a message saying what to set
    assert.throws(
      () => linter.verify("foo();\n", [{ files: ["**/*.ts"], languageOptions: { parser: tsParser }, plugins: { asyncdoctor: plugin }, rules: { "asyncdoctor/floating-promise": "error" } }], "x.ts"),
      /asyncdoctor\/floating-promise needs type information: use @typescript-eslint\/parser with parserOptions\.projectService/,
    );
  });
});
