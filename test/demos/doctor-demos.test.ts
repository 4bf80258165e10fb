// The runtime doctor's demos: each bug half is reported as expected, each fixed half is silent.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { memoryOutput } from "../../demos/demo.js";
import { unclosedSession } from "../../demos/unclosed-session.js";
import { blockedLoop } from "../../demos/blocked-loop.js";
import { leakyTest } from "../../demos/leaky-test.js";
import { exitWithPending } from "../../demos/exit-with-pending.js";
import { demos } from "../../demos/index.js";

const rules = (ds: readonly { certainty: string; rule: string }[]) => ds.map((d) => `${d.certainty} ${d.rule}`).sort();

describe("runtime doctor demos", () => {
  it("are listed in demos/index.ts", () => {
    for (const d of [unclosedSession, blockedLoop, leakyTest, exitWithPending]) assert.ok(demos.includes(d), d.name);
  });

  it("unclosed-session: a proven leak with the line that opened the session; silent with await using", async () => {
    const out = memoryOutput();
    const { bug, fixed } = await unclosedSession.run(out);
    assert.deepEqual(rules(bug), ["proven leaked-resource"]);
    assert.match(bug[0]!.summary, /resource "github-session" was garbage-collected without being closed/);
    assert.match(bug[0]!.site?.file ?? "", /demos\/unclosed-session\.ts$/);
    assert.deepEqual(fixed, []);
  });

  it("blocked-loop: names the task that blocked the loop; silent with the async API", async () => {
    const out = memoryOutput();
    const { bug, fixed } = await blockedLoop.run(out);
    assert.deepEqual(rules(bug), ["observed loop-blocked"]);
    assert.match(bug[0]!.summary, /blocked for \d+ ms by a promise continuation in task "POST \/signup"/);
    assert.deepEqual(
      fixed.filter((d) => d.certainty !== "potential"),
      [],
    ); // (a loaded machine may stall it)
  });

  it("leaky-test: the test fails naming the leaked task and timer; the fixed test passes", async () => {
    const out = memoryOutput();
    const { bug, fixed } = await leakyTest.run(out);
    assert.deepEqual(rules(bug), ["observed leaked-task", "observed leaked-timer"]);
    assert.match(out.text, /task "welcome-email" was still running when test "sign-up sends a welcome e-mail" ended/);
    assert.match(out.text, /the test passed; e-mails sent: 2/);
    assert.deepEqual(fixed, []);
  });

  it("exit-with-pending: the exit report proves the task and its await stuck; the fixed program ends clean", async () => {
    const out = memoryOutput();
    const { bug, fixed } = await exitWithPending.run(out);
    assert.deepEqual(rules(bug), ["proven leaked-task", "proven never-settled"]);
    assert.match(out.text, /task "upload-report" was still running when the event loop drained/);
    assert.match(out.text, /awaited here: promise "the awaited promise" at demos\/programs\/exit-with-pending\.ts:16:\d+/);
    assert.deepEqual(fixed, []);
  });
});
