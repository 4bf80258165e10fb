import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { createDiagnosis } from "../../src/core/diagnosis.js";
import { codeFrame, renderText } from "../../src/report/text.js";
import { tempProject } from "../check/helpers.js";

describe("code frames in text reports", () => {
  const dir = tempProject({ "a.ts": "const a = 1;\nfunction f() {\n\tsave(a);\n  return 2;\n}\nexport {};\n" });
  const site = { file: join(dir, "a.ts"), line: 3, column: 2, functionName: "f" };

  it("shows two lines before, the line marked, a caret under the column, and one line after", () => {
    assert.deepEqual(codeFrame(site), ["  1 | const a = 1;", "  2 | function f() {", "> 3 |   save(a);", "    |   ^", "  4 |   return 2;"]);
  });

  it("is empty when the file cannot be read or the line is out of range", () => {
    assert.deepEqual(codeFrame({ file: join(dir, "missing.ts"), line: 1, column: 1 }), []);
    assert.deepEqual(codeFrame({ ...site, line: 99 }), []);
  });

  it("renders a static finding with severity, enclosing function and frame", () => {
    const d = createDiagnosis({
      rule: "floating-promise",
      certainty: "proven",
      summary: "`save(a)` starts a promise that nothing awaits",
      subjects: [],
      fix: "await it",
      site,
      data: { severity: "error" },
    });
    const text = renderText(d, { color: false, codeFrame: true });
    assert.match(text, /^PROVEN floating promise \[floating-promise\] \(error\)\n/);
    assert.match(text, /at .*a\.ts:3:2 \(in f\)\n\n {4}  1 \| const a = 1;/);
    assert.match(text, /> 3 \| {3}save\(a\);\n {8}\| {3}\^/);
    assert.match(text, /fix: await it/);
  });
});
