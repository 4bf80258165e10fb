// The seed 2.3 demo against a real server: the plain pool fails after its timeout with no word on
// who holds what; guarded, the deadlock is a proven pool-exhaustion naming every holder; the fix
// is silent.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { memoryOutput } from "../../demos/demo.js";
import { pgPoolDeadlock } from "../../demos/pg-pool-deadlock.js";

describe("pg-pool-deadlock demo", () => {
  it("reports the real deadlock at once and the fix not at all", async (t) => {
    const out = memoryOutput();
    const { bug, fixed } = await pgPoolDeadlock.run(out);
    const none = /no PostgreSQL server \(([^)]*)\)/.exec(out.text);
    if (none) {
      assert.ok(!process.env.CI, `PostgreSQL is required in CI: ${none[1]}`);
      process.stderr.write(`SKIPPED pg-pool-deadlock demo test: ${none[1]}\n`);
      t.skip(`no PostgreSQL server: ${none[1]}`);
      return;
    }
    assert.deepEqual(
      bug.map((d) => `${d.certainty} ${d.rule}`),
      ["proven pool-exhaustion"],
    );
    const holders = bug[0]!.subjects.filter((s) => s.role?.startsWith("holds")).map((s) => s.name);
    assert.deepEqual(holders.sort(), ["process-user-0", "process-user-1", "process-user-2"]);
    assert.ok(
      bug[0]!.subjects.every((s) => s.kind !== "task" || s.site?.file.endsWith("pg-pool-deadlock.ts")),
      "acquire sites in the demo",
    );
    assert.deepEqual(fixed, []);
    // Each waiter's timer runs from its own request: whether the second one expires before the first
    // failure hands its client on depends on the spread of the three requests, so 1 or 2 fail.
    assert.match(out.text, /\d+ ms after the deadlock formed: [12] of 3 requests failed with "timeout exceeded when trying to connect"/);
    assert.match(out.text, /DeadlockError [\d.]+ ms after the deadlock formed/);
    assert.match(out.text, /all 3 requests completed, each with one client/);
  });
});
