import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { loadProgram } from "../../src/check/program.js";
import { programOf } from "../../src/check/analysis/program-of.js";
import { check } from "../../src/check/runner.js";
import { CLEAN, FLOATING, tempProject } from "./helpers.js";

describe("loadProgram", () => {
  it("parses as tsc does: every node of a checked file has its parent once loaded, and its checker is registered", () => {
    const dir = tempProject({
      "a.ts": `/** Docs, which no rule reads. @param x a number */\nexport async function f(x: number) { const o = { a: [x, \`t\${x}\`] }; return o.a?.[0] ?? (await g()); }\nasync function g() { return 1; }\n`,
    });
    const loaded = loadProgram({ cwd: dir, paths: ["a.ts"] });
    const sf = loaded.sourceFiles[0]!;
    let nodes = 0;
    const visit = (n: ts.Node, parent: ts.Node): void => {
      nodes++;
      assert.equal(n.parent, parent, `${ts.SyntaxKind[n.kind]} at ${n.pos} has its parent`);
      ts.forEachChild(n, (c) => visit(c, n));
    };
    ts.forEachChild(sf, (c) => visit(c, sf));
    assert.ok(nodes > 30);
    assert.equal(programOf(loaded.checker), loaded.program);
  });

  it("loads the files of the nearest tsconfig", () => {
    const dir = tempProject({ "tsconfig.json": `{"compilerOptions":{"strict":true},"include":["src"]}`, "src/a.ts": FLOATING, "other/b.ts": FLOATING });
    const loaded = loadProgram({ cwd: dir });
    assert.deepEqual(
      loaded.sourceFiles.map((f) => f.fileName.slice(dir.length + 1)),
      ["src/a.ts"],
    );
    assert.equal(loaded.configFile, join(dir, "tsconfig.json"));
    assert.deepEqual(loaded.problems, []);
  });

  it("checks only the given paths, files or directories", () => {
    const dir = tempProject({ "a.ts": FLOATING, "sub/b.ts": CLEAN, "sub/c.d.ts": "export {};", "node_modules/x/i.ts": FLOATING });
    const loaded = loadProgram({ cwd: dir, paths: ["sub", "a.ts"] });
    assert.deepEqual(loaded.sourceFiles.map((f) => f.fileName.slice(dir.length + 1)).sort(), ["a.ts", "sub/b.ts"]);
  });

  it("reports a path that does not exist and checks the rest", () => {
    const dir = tempProject({ "a.ts": FLOATING });
    const result = check({ cwd: dir, paths: ["missing.ts", "a.ts"] });
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0]!.message, /no such file or directory/);
    assert.equal(result.diagnoses.length, 1);
  });

  it("reports a file that does not parse and checks the rest (malformed sources)", () => {
    const dir = tempProject({
      "a.ts": FLOATING,
      "broken.ts": "export function f( {\n  const = ;\n",
      "garbage.ts": "\u0000\u0001 ))) <<< }}} @@@",
      "unterminated.ts": "const s = `never closed\n",
    });
    const result = check({ cwd: dir, paths: ["."] });
    const parse = result.problems.filter((p) => p.kind === "parse");
    assert.deepEqual(parse.map((p) => p.file.slice(dir.length + 1)).sort(), ["broken.ts", "garbage.ts", "unterminated.ts"]);
    for (const p of parse) assert.match(p.message, /does not parse: .*; not checked/);
    assert.equal(parse.find((p) => p.file.endsWith("broken.ts"))?.line, 2);
    assert.equal(result.filesChecked, 1);
    assert.equal(result.diagnoses.length, 1);
  });

  it("reports a missing --project and checks nothing (no fallback to default options)", () => {
    const dir = tempProject({ "a.ts": FLOATING });
    const result = check({ cwd: dir, project: "nope/tsconfig.json", paths: ["a.ts"] });
    assert.equal(result.problems.length, 1);
    assert.equal(result.problems[0]!.kind, "config");
    assert.match(result.problems[0]!.message, /does not exist; nothing was checked/);
    assert.equal(result.filesChecked, 0);
    assert.equal(result.diagnoses.length, 0);
  });

  it("reports a --project directory with no tsconfig.json, and loads one that has it", () => {
    const dir = tempProject({ "a.ts": FLOATING, "empty/x.txt": "", "proj/tsconfig.json": `{"include":["*.ts"]}`, "proj/b.ts": FLOATING });
    const none = check({ cwd: dir, project: "empty" });
    assert.match(none.problems[0]!.message, /directory given with --project holds no tsconfig\.json/);
    assert.equal(none.filesChecked, 0);
    const some = check({ cwd: dir, project: "proj" });
    assert.deepEqual(some.problems, []);
    assert.equal(some.filesChecked, 1);
  });

  it("reports a tsconfig with a JSON syntax error (read from the config file's parsing diagnostics)", () => {
    const dir = tempProject({ "tsconfig.json": `{"compilerOptions": {"strict": true "target": "ES2022"}, "include": ["src"]}`, "src/a.ts": CLEAN });
    const result = check({ cwd: dir });
    const config = result.problems.filter((p) => p.kind === "config");
    assert.equal(config.length, 1, JSON.stringify(result.problems));
    assert.match(config[0]!.message, /',' expected/);
    assert.equal(config[0]!.line, 1);
  });

  it("reports a tsconfig whose include matches nothing, but not when paths are given", () => {
    const dir = tempProject({ "tsconfig.json": `{"include": ["nothing/**/*.ts"]}`, "a.ts": CLEAN });
    const result = check({ cwd: dir });
    assert.match(result.problems.map((p) => p.message).join("\n"), /No inputs were found in config file/);
    assert.equal(result.filesChecked, 0);
    assert.deepEqual(check({ cwd: dir, paths: ["a.ts"] }).problems, []);
  });

  it("walks a symlink loop once and reports each real file once", () => {
    const dir = tempProject({ "src/a.ts": FLOATING, "src/sub/b.ts": FLOATING });
    symlinkSync("..", join(dir, "src/sub/up"));
    symlinkSync("a.ts", join(dir, "src/alias.ts"));
    const result = check({ cwd: dir, paths: ["src"] });
    assert.equal(result.filesChecked, 2);
    assert.deepEqual(
      result.diagnoses.map((d) => d.site!.line),
      [3, 3],
    );
  });

  it("reports a broken tsconfig and checks with defaults", () => {
    const dir = tempProject({ "tsconfig.json": `{"compilerOptions": {"strict": tru`, "a.ts": FLOATING });
    const result = check({ cwd: dir, paths: ["a.ts"] });
    assert.ok(
      result.problems.some((p) => p.kind === "config" && p.file.endsWith("tsconfig.json")),
      JSON.stringify(result.problems),
    );
    assert.equal(result.diagnoses.length, 1);
  });

  it("reports a tsconfig with a bad option", () => {
    const dir = tempProject({ "tsconfig.json": `{"compilerOptions": {"target": "ES1999"}}`, "a.ts": FLOATING });
    const result = check({ cwd: dir });
    assert.ok(
      result.problems.some((p) => /target/.test(p.message)),
      JSON.stringify(result.problems),
    );
    assert.equal(result.diagnoses.length, 1);
  });

  it("reports a non-TypeScript path", () => {
    const dir = tempProject({ "notes.txt": "hello", "a.ts": CLEAN });
    const result = check({ cwd: dir, paths: ["notes.txt", "a.ts"] });
    assert.match(result.problems[0]!.message, /not a TypeScript source file/);
  });

  it("rejects bad arguments", () => {
    assert.throws(() => check({ paths: "src" as unknown as string[] }), {
      name: "TypeError",
      message: /"options\.paths" argument must be an array of strings/,
    });
    assert.throws(() => check({ project: 3 as unknown as string }), { name: "TypeError", message: /"options\.project"/ });
    assert.throws(() => check(null as unknown as object), { name: "TypeError", message: /"options" argument must be an object/ });
    assert.throws(() => loadProgram({ paths: [1] as unknown as string[] }), { name: "TypeError", message: /"options\.paths"/ });
  });
});

describe("runChecks", () => {
  it("reports a rule that throws as a problem and still runs the others", async () => {
    const { runChecks } = await import("../../src/check/runner.js");
    const { floatingPromise } = await import("../../src/check/rules/floating-promise.js");
    const broken = {
      meta: { id: "broken-rule", description: "throws", certainty: "potential" as const, defaultSeverity: "error" as const, scope: "file" as const },
      checkFile() {
        throw new Error("boom");
      },
    };
    const dir = tempProject({ "a.ts": FLOATING });
    const result = runChecks(loadProgram({ cwd: dir, paths: ["a.ts"] }), { rules: [broken, floatingPromise] });
    assert.equal(result.problems.length, 1);
    assert.equal(result.problems[0]!.kind, "rule");
    assert.match(result.problems[0]!.message, /rule broken-rule failed on this file and was skipped for it: boom/);
    assert.deepEqual(
      result.diagnoses.map((d) => d.rule),
      ["floating-promise"],
    );
  });

  it("rejects bad arguments", async () => {
    const { runChecks } = await import("../../src/check/runner.js");
    assert.throws(() => runChecks({} as never), { name: "TypeError", message: /"loaded" argument must be a LoadedProgram/ });
    const dir = tempProject({ "a.ts": CLEAN });
    const loaded = loadProgram({ cwd: dir, paths: ["a.ts"] });
    assert.throws(() => runChecks(loaded, { only: ["nope"] }), { name: "RangeError", message: /unknown rule "nope"/ });
    assert.throws(() => runChecks(loaded, { only: "floating-promise" as unknown as string[] }), { name: "TypeError", message: /"options\.only"/ });
  });
});
