import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
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
    const fileRules = rules
      .filter((r) => r.meta.scope === "file")
      .map((r) => r.meta.id)
      .sort();
    assert.deepEqual(Object.keys(plugin.rules ?? {}).sort(), fileRules);
    assert.deepEqual(
      Object.keys(plugin.configs.recommended.rules ?? {}).sort(),
      fileRules.map((id) => `asyncdoctor/${id}`),
    );
    assert.equal(plugin.configs.recommended.plugins?.asyncdoctor, plugin);
    assert.equal(plugin.configs.recommended.rules?.["asyncdoctor/missing-timeout"], "warn");
    assert.deepEqual(plugin.configs.recommended.files, ["**/*.ts", "**/*.tsx", "**/*.mts", "**/*.cts"]);
    assert.deepEqual(
      Object.values(plugin.configs.disableTypeChecked.rules ?? {}),
      fileRules.map(() => "off"),
    );
  });

  it("the recommended config leaves JavaScript files alone (eslint.config.js does not crash the lint)", async () => {
    const eslint = eslintFor([plugin.configs.recommended]);
    const [result] = await eslint.lintText("export default [];\nfetch('x');\n", { filePath: `${project}eslint.config.js` });
    assert.deepEqual(result!.messages, []);
  });

  it("disableTypeChecked turns every rule off where there is no type information", () => {
    const linter = new Linter({ configType: "flat" });
    const messages = linter.verify(
      "async function s() {}\ns();\n",
      [
        { files: ["**/*.ts"], languageOptions: { parser: tsParser } },
        { ...plugin.configs.recommended },
        { files: ["**/*.ts"], ...plugin.configs.disableTypeChecked },
      ],
      "x.ts",
    );
    assert.deepEqual(messages, []);
  });

  it("reports each finding's start and end, line and column", async () => {
    const [result] = await eslintFor([plugin.configs.recommended]).lintFiles(["src/jobs.ts"]);
    assert.deepEqual(
      result!.messages.map((m) => `${m.line}:${m.column}-${m.endLine}:${m.endColumn}`),
      ["8:3-8:16", "9:3-9:41", "10:17-12:4", "16:21-16:31"],
    );
  });

  it("honours asyncdoctor-ignore comments, as the CLI does", async () => {
    const [result] = await eslintFor([plugin.configs.recommended]).lintFiles(["src/suppressed.ts"]);
    assert.deepEqual(
      result!.messages.map((m) => `${m.line}:${m.column} ${m.ruleId}`),
      ["10:3 asyncdoctor/floating-promise", "14:3 asyncdoctor/floating-promise"],
    );
    const cli = check({ cwd: project, project: "tsconfig.json", paths: ["src/suppressed.ts"] });
    assert.deepEqual(
      cli.diagnoses.map((d) => `${d.site!.line}:${d.site!.column} asyncdoctor/${d.rule}`),
      result!.messages.map((m) => `${m.line}:${m.column} ${m.ruleId}`),
    );
  });

  it("offers typescript-eslint's void and await suggestions where they fit", async () => {
    const [result] = await eslintFor([plugin.configs.recommended]).lintFiles(["src/suppressed.ts"]);
    const [inSync, inAsync] = result!.messages;
    assert.deepEqual(
      inSync!.suggestions?.map((sg) => sg.desc),
      ["Add `void` to drop it on purpose"],
    );
    assert.deepEqual(
      inAsync!.suggestions?.map((sg) => sg.desc),
      ["Add `await`", "Add `void` to drop it on purpose"],
    );
    const text = readFileSync(`${project}src/suppressed.ts`, "utf8");
    const fix = inAsync!.suggestions[0]!.fix;
    assert.match(text.slice(0, fix.range[0]) + fix.text + text.slice(fix.range[1]), /\n {2}await save\("await me"\);\n/);
  });

  it("rejects an unknown option key (a typo) through each rule's schema", () => {
    const linter = new Linter({ configType: "flat" });
    const lint = (rule: string, options: unknown) =>
      linter.verify(
        "x;\n",
        [
          {
            files: ["**/*.ts"],
            languageOptions: { parser: tsParser },
            plugins: { asyncdoctor: plugin },
            rules: { [`asyncdoctor/${rule}`]: ["error", options] },
          },
        ],
        "x.ts",
      );
    assert.throws(() => lint("missing-timeout", { wrapers: ["download"] }), /asyncdoctor\/missing-timeout[^]*Unexpected property "wrapers"/);
    assert.throws(() => lint("missing-timeout", { wrappers: "download" }), /asyncdoctor\/missing-timeout[^]*should be array/);
    assert.throws(() => lint("floating-promise", { keptTypes: [{ name: "Job" }] }), /asyncdoctor\/floating-promise[^]*package/);
    assert.throws(() => lint("async-callback-misuse", { any: true }), /asyncdoctor\/async-callback-misuse/);
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

    const cli = check({ cwd: project, project: "tsconfig.json", paths: ["src/jobs.ts"] });
    assert.deepEqual(
      cli.diagnoses.map((d) => `${d.site!.line}:${d.site!.column} asyncdoctor/${d.rule}`),
      viaEslint,
    );
  });

  it("passes rule options through", async () => {
    const [result] = await eslintFor([
      {
        plugins: { asyncdoctor: plugin },
        rules: { "asyncdoctor/missing-timeout": ["error", { wrappers: ["download"] }], "asyncdoctor/floating-promise": "error" },
      },
    ]).lintFiles(["src/jobs.ts"]);
    assert.deepEqual(
      result!.messages.map((m) => m.ruleId),
      ["asyncdoctor/floating-promise", "asyncdoctor/missing-timeout"],
    );
  });

  it("loads as asyncdoctor/eslint from the built package, through import and require()", () => {
    const esm = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        "const p = (await import('asyncdoctor/eslint')).default; console.log(Object.keys(p.rules).length, Object.keys(p.configs.recommended.rules).length)",
      ],
      { encoding: "utf8" },
    );
    const cjs = execFileSync(
      process.execPath,
      ["-e", "const p = require('asyncdoctor/eslint').default; console.log(Object.keys(p.rules).length, Object.keys(p.configs.recommended.rules).length)"],
      { encoding: "utf8" },
    );
    const n = rules.filter((r) => r.meta.scope === "file").length;
    assert.equal(esm.trim(), `${n} ${n}`);
    assert.equal(cjs.trim(), `${n} ${n}`);
  });

  it("says clearly when type information is missing", () => {
    const linter = new Linter({ configType: "flat" });
    // as typescript-eslint's own typed rules do, it stops the lint with a message saying what to set
    assert.throws(
      () =>
        linter.verify(
          "foo();\n",
          [{ files: ["**/*.ts"], languageOptions: { parser: tsParser }, plugins: { asyncdoctor: plugin }, rules: { "asyncdoctor/floating-promise": "error" } }],
          "x.ts",
        ),
      /asyncdoctor\/floating-promise needs type information: use @typescript-eslint\/parser with parserOptions\.projectService/,
    );
  });
});
