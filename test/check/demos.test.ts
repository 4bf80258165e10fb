/**
 * `check` over demos/: in every demo whose scenario is statically checkable, at least one finding
 * in or through each `bug…` function (anchored there, or one of its steps is); in every demo, no
 * finding anchored inside any `fixed…` function (the naming convention of demos/demo.ts).
 * Generic over the demo files, so demos added later are covered. The demos' own lock and pool
 * interfaces are named in the repository's asyncdoctor.config.json.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { check } from "../../src/check/runner.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const demosDir = `${root}demos/`;

/**
 * Demos whose bug only shows at run time (the static checker cannot see it): their `bug…`
 * functions need no finding, but their `fixed…` functions must still have none.
 */
const NOT_STATICALLY_CHECKABLE = new Set([
  "timeout.ts", // an await that is merely slow: nothing in the source says it will hang
  "gather-exceptions.ts", // Promise.all keeping only the first failure is correct code, not a pattern to flag
  "swallowed-exception.ts", // the failure is silenced by an empty .catch(): a runtime finding (task-failed)
  "blocked-loop.ts", // a synchronous hash inside an async function: only its duration at run time says it blocks
  "leaky-test.ts", // spawn() keeps the task on purpose; the leak is the test ending before it does
  "exit-with-pending.ts", // the program's stuck await is only provable when the loop drains
]);

interface Fn {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** The `bug…` and `fixed…` functions of a file, with their line ranges. */
function namedFunctions(sf: ts.SourceFile): Fn[] {
  const out: Fn[] = [];
  const add = (name: string, node: ts.Node) => {
    if (!/^(bug|fixed)/.test(name)) return;
    out.push({ name, start: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, end: sf.getLineAndCharacterOfPosition(node.getEnd()).line + 1 });
  };
  const visit = (n: ts.Node): void => {
    if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && n.name && ts.isIdentifier(n.name)) add(n.name.text, n);
    if (
      ts.isVariableDeclaration(n) &&
      ts.isIdentifier(n.name) &&
      n.initializer &&
      (ts.isArrowFunction(n.initializer) || ts.isFunctionExpression(n.initializer))
    )
      add(n.name.text, n);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe("asyncdoctor check demos/", () => {
  const result = check({ cwd: root, paths: ["demos"] });
  const files = readdirSync(demosDir)
    .filter((f) => f.endsWith(".ts"))
    .sort();

  it("loads every demo without problems", () => {
    assert.deepEqual(result.problems, []);
  });

  for (const file of files) {
    const path = `${demosDir}${file}`;
    const sf = ts.createSourceFile(path, ts.sys.readFile(path) ?? "", ts.ScriptTarget.Latest, true);
    const fns = namedFunctions(sf);
    if (fns.length === 0) continue;
    const here = result.diagnoses.filter((d) => d.site?.file === path);
    const inside = (fn: Fn) => here.filter((d) => d.site!.line >= fn.start && d.site!.line <= fn.end);
    // A bug that spans functions (the inner acquire of a nested one, the other path of an
    // inverted lock order) is reported once, at one of them; the others appear in its steps.
    const within = (fn: Fn) => (s: { site?: { file: string; line: number } | undefined }) =>
      s.site?.file === path && s.site.line >= fn.start && s.site.line <= fn.end;
    const involving = (fn: Fn) => result.diagnoses.filter((d) => within(fn)(d) || (d.steps ?? []).some(within(fn)) || d.subjects.some(within(fn)));
    describe(file, () => {
      for (const fn of fns.filter((f) => f.name.startsWith("fixed"))) {
        it(`finds nothing in ${fn.name}`, () => {
          assert.deepEqual(
            inside(fn).map((d) => `${d.site!.line}: ${d.rule}: ${d.summary}`),
            [],
          );
        });
      }
      if (NOT_STATICALLY_CHECKABLE.has(file)) return;
      for (const fn of fns.filter((f) => f.name.startsWith("bug"))) {
        it(`finds the bug in ${fn.name}`, () => {
          assert.ok(
            involving(fn).length > 0,
            `no finding in or through ${fn.name} (lines ${fn.start}-${fn.end}); findings in the file: ${here.map((d) => `${d.site!.line} ${d.rule}`).join(", ") || "none"}`,
          );
        });
      }
    });
  }
});
