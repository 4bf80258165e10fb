import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createDiagnosis } from "../../src/core/diagnosis.js";
import { captureSite } from "../../src/core/site.js";
import { renderText } from "../../src/report/text.js";
import { renderJson } from "../../src/report/json.js";

describe("text and JSON renderers", () => {
  const site = captureSite();
  const d = createDiagnosis({
    rule: "deadlock-cycle",
    certainty: "proven",
    summary: 'task "t1" waits for mutex "b" held by task "t2", which waits for mutex "a" held by "t1"',
    subjects: [{ kind: "task", name: "t1", role: "waiter", site }],
    steps: [{ text: 'task "t1" holds mutex "a"', site }],
    fix: "take `a` before `b` everywhere, or use lockAll([a, b])",
  });

  it("puts certainty, plain words and rule id first, then names, steps with source lines, and the fix", () => {
    const text = renderText(d, { color: false });
    const lines = text.split("\n");
    assert.equal(lines[0], "PROVEN deadlock: wait-for cycle [deadlock-cycle]");
    assert.match(text, /1\. task "t1" holds mutex "a" at test\/report\/text\.test\.ts:\d+:\d+/);
    assert.match(text, /const site = captureSite\(\);/);
    assert.match(text, /fix: take `a` before `b`/);
    assert.ok(!text.includes("\u001b["), "no colour codes when color is false");
  });
  it("renders JSON with the tool name and every field", () => {
    const doc = JSON.parse(renderJson([d])) as { tool: string; diagnoses: Array<{ rule: string; id: string; fix: string }> };
    assert.equal(doc.tool, "asyncdoctor");
    assert.equal(doc.diagnoses[0]?.rule, "deadlock-cycle");
    assert.equal(doc.diagnoses[0]?.id, d.id);
  });
});
