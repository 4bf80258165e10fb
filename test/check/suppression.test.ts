import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { check } from "../../src/check/runner.js";
import { tempProject } from "./helpers.js";

const save = `async function save(x: string): Promise<void> { await null; void x; }\n`;

function run(code: string) {
  const dir = tempProject({ "a.ts": save + code });
  return check({ cwd: dir, paths: ["a.ts"] }).diagnoses.map((d) => `${d.site!.line} ${d.rule}`);
}

describe("suppression comments", () => {
  it("a comment with a reason on the line before silences that rule there", () => {
    assert.deepEqual(
      run(`export function f() {\n  // asyncdoctor-ignore floating-promise -- the cache warms itself; failures are logged inside save\n  save("a");\n}\n`),
      [],
    );
  });

  it("a trailing comment silences its own line", () => {
    assert.deepEqual(run(`export function f() {\n  save("a"); // asyncdoctor-ignore floating-promise -- best effort\n}\n`), []);
  });

  it("a file-wide suppression silences the rule in the whole file", () => {
    assert.deepEqual(
      run(`// asyncdoctor-ignore-file floating-promise -- a fire-and-forget script\nexport function f() {\n  save("a");\n  save("b");\n}\n`),
      [],
    );
  });

  it("silences only the rule it names", () => {
    assert.deepEqual(run(`export function f() {\n  // asyncdoctor-ignore unclosed-resource -- not this one\n  save("a");\n}\n`), ["4 floating-promise"]);
  });

  it("does not reach past the next line", () => {
    assert.deepEqual(run(`export function f() {\n  // asyncdoctor-ignore floating-promise -- only the first\n  save("a");\n  save("b");\n}\n`), [
      "5 floating-promise",
    ]);
  });

  it("a suppression without a reason is itself reported", () => {
    assert.deepEqual(run(`export function f() {\n  // asyncdoctor-ignore floating-promise\n  save("a");\n}\n`), ["3 suppression-without-reason"]);
  });

  it("a suppression naming an unknown rule is reported", () => {
    assert.deepEqual(run(`export function f() {\n  // asyncdoctor-ignore floating-promis -- typo\n  save("a");\n}\n`), [
      "3 invalid-suppression",
      "4 floating-promise",
    ]);
  });

  it("text inside a string is not a suppression", () => {
    assert.deepEqual(run(`export function f() {\n  const s = "// asyncdoctor-ignore floating-promise -- x"; void s;\n  save("a");\n}\n`), [
      "4 floating-promise",
    ]);
  });
});

describe("eslint-disable comments (so one comment silences both faces)", () => {
  it("eslint-disable-next-line naming the asyncdoctor rule silences it", () => {
    assert.deepEqual(
      run(`export function f() {\n  // eslint-disable-next-line asyncdoctor/floating-promise -- warmed in the background\n  save("a");\n  save("b");\n}\n`),
      ["5 floating-promise"],
    );
  });

  it("eslint-disable-line, in a block comment too", () => {
    assert.deepEqual(
      run(
        `export function f() {\n  save("a"); // eslint-disable-line asyncdoctor/floating-promise\n  save("b"); /* eslint-disable-line asyncdoctor/floating-promise */\n}\n`,
      ),
      [],
    );
  });

  it("an eslint-disable / eslint-enable block", () => {
    assert.deepEqual(
      run(
        `export function f() {\n  /* eslint-disable asyncdoctor/floating-promise */\n  save("a");\n  /* eslint-enable asyncdoctor/floating-promise */\n  save("b");\n}\n`,
      ),
      ["6 floating-promise"],
    );
  });

  it("a directive naming no rule disables every rule, as in ESLint", () => {
    assert.deepEqual(run(`export function f() {\n  // eslint-disable-next-line\n  save("a");\n}\n`), []);
  });

  it("a directive naming only other plugins' rules silences nothing here", () => {
    assert.deepEqual(run(`export function f() {\n  // eslint-disable-next-line @typescript-eslint/no-floating-promises\n  save("a");\n}\n`), [
      "4 floating-promise",
    ]);
  });

  it("a directive naming another asyncdoctor rule silences only that one", () => {
    assert.deepEqual(run(`export function f() {\n  // eslint-disable-next-line asyncdoctor/unclosed-resource, no-console\n  save("a");\n}\n`), [
      "4 floating-promise",
    ]);
  });

  it("text inside a string is not a directive", () => {
    assert.deepEqual(run(`export function f() {\n  const s = "/* eslint-disable */"; void s;\n  save("a");\n}\n`), ["4 floating-promise"]);
  });
});
