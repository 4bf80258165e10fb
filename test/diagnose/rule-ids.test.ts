// The --fail-on list: runtime rule ids or "all"; a typo is an error naming the likely id.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { closestRule, parseFailOn, runtimeRuleIds } from "../../src/diagnose/rule-ids.js";
import { installExitReport } from "../../src/diagnose/exit-report.js";

describe("parseFailOn()", () => {
  it("accepts runtime rule ids and all, with spaces", () => {
    assert.deepEqual(parseFailOn(" leaked-task , never-settled,all"), ["leaked-task", "never-settled", "all"]);
    assert.ok(runtimeRuleIds.includes("loop-blocked") && runtimeRuleIds.includes("leaked-timer"));
    for (const id of runtimeRuleIds) assert.deepEqual(parseFailOn(id), [id]);
  });

  it("rejects an unknown id, naming the likely one; an empty list; a non-string", () => {
    assert.throws(() => parseFailOn("leaked-tsak"), {
      name: "RangeError",
      code: "ERR_OUT_OF_RANGE",
      message: /--fail-on: unknown rule id "leaked-tsak" \(did you mean "leaked-task"\?\)/,
    });
    assert.throws(() => parseFailOn("floating-promise"), { name: "RangeError", message: /unknown rule id "floating-promise"; the runtime rule ids are/ });
    assert.throws(() => parseFailOn(" ,"), { name: "RangeError", message: /expected comma-separated rule ids or "all"/ });
    assert.throws(() => parseFailOn(3 as never), { name: "TypeError", message: /"--fail-on"/ });
    assert.equal(closestRule("zzzzzzzzzz"), undefined);
  });

  it("installExitReport() checks failOn the same way", () => {
    assert.throws(() => installExitReport({ failOn: ["deadlock-cylce"] }), {
      name: "RangeError",
      message: /options\.failOn: unknown rule id "deadlock-cylce" \(did you mean "deadlock-cycle"\?\)/,
    });
  });
});
