// Each test-runner integration in a real run of that runner: the leaking tests fail with a report
// naming what leaked and where, the clean ones (including one running concurrently with a leak) pass.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

function run(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", CI: "1" };
  delete env.NODE_TEST_CONTEXT; // else the nested node:test reports into this run instead of its own
  delete env.FORCE_COLOR;
  return spawnSync(process.execPath, args, { encoding: "utf8", env, timeout: 120_000 });
}

describe("asyncdoctor/testing in real test runners", () => {
  it("node:test with leakCheck(): leaks fail their own test, a concurrent clean test passes", () => {
    const r = run(["--import", "tsx", "--test", "--test-reporter=tap", "test/testing/fixtures/node-test/wrapped.test.ts"]);
    const out = r.stdout;
    assert.notEqual(r.status, 0);
    assert.match(out, /not ok 1 - leaks a task/);
    assert.match(out, /ok 2 - runs at the same time and is clean/);
    assert.doesNotMatch(out, /not ok 2 - runs at the same time and is clean/);
    assert.match(out, /spawned here: task "orphan-sync" at test\/testing\/fixtures\/node-test\/wrapped\.test\.ts:15:5/);
    assert.match(out, /not ok \d+ - leaks an interval/);
    assert.match(out, /created here: code "setInterval" at test\/testing\/fixtures\/node-test\/wrapped\.test\.ts:25:18/);
    assert.match(out, /ok \d+ - clears its timer/);
    assert.match(out, /not ok \d+ - leaves a session open/);
    assert.match(out, /resource "api-session" was never closed when test "leaves a session open" ended/);
    assert.match(out, /ok \d+ - closes its session with await using/);
    assert.doesNotMatch(out, /not ok \d+ - closes its session/);
    assert.match(out, /ok \d+ - allow-listed background work/);
    assert.doesNotMatch(out, /not ok \d+ - allow-listed/);
    assert.match(out, /not ok \d+ - assertNoLeaks inside the body/);
    assert.match(out, /# pass 4/);
    assert.match(out, /# fail 4/);
  });

  it("node:test with setupLeakChecks(): unwrapped tests are checked in afterEach", () => {
    const r = run(["--import", "tsx", "--test", "--test-reporter=tap", "test/testing/fixtures/node-test/setup.test.ts"]);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /not ok 1 - unwrapped leak/);
    assert.match(r.stdout, /task "hook-orphan" was still running when test "unwrapped leak" ended/);
    assert.match(r.stdout, /ok 2 - unwrapped clean/);
    assert.doesNotMatch(r.stdout, /not ok 2/);
  });

  it("node:test's own timeout: the wrapped test's stuck await is named, with its chain", () => {
    const r = run(["--import", "tsx", "--test", "--test-reporter=tap", "test/testing/fixtures/node-test/timeout.test.ts"]);
    const out = r.stdout + r.stderr;
    assert.notEqual(r.status, 0);
    assert.match(out, /not ok 1 - waits for a reply that never comes/);
    assert.match(out, /test "waits for a reply that never comes" did not finish in time; it is stuck here/);
    assert.match(out, /waitForReply\(\) has been awaiting a promise for \d+ ms; seen when test "waits for a reply that never comes" timed out/);
    assert.match(out, /2\. waitForReply awaits the pending promise here at test\/testing\/fixtures\/node-test\/timeout\.test\.ts:9:3/);
  });

  it("Vitest: concurrent wrapped tests and setupLeakChecks()", () => {
    const r = run(["node_modules/vitest/vitest.mjs", "run", "--root", "test/testing/fixtures/vitest", "--reporter=verbose"]);
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 1);
    assert.match(out, /× leaks\.test\.ts > wrapped, concurrent > vitest leaks a task/);
    assert.match(out, /✓ leaks\.test\.ts > wrapped, concurrent > vitest concurrent clean/);
    assert.match(out, /× leaks\.test\.ts > setupLeakChecks > vitest leaks an interval/);
    assert.match(out, /× leaks\.test\.ts > setupLeakChecks > vitest leaves a resource open/);
    assert.match(out, /✓ leaks\.test\.ts > setupLeakChecks > vitest clean unwrapped/);
    assert.match(out, /task "vitest-orphan" was still running when test "vitest leaks a task" ended/);
    assert.match(out, /resource "vitest-session" was never closed/);
    // Vitest maps its transformed code's stacks itself: the sites are the TypeScript lines
    assert.match(out, /spawned here: task "vitest-orphan" at test\/testing\/fixtures\/vitest\/leaks\.test\.ts:15:5/);
    assert.match(out, /created here: code "setInterval" at test\/testing\/fixtures\/vitest\/leaks\.test\.ts:27:20/);
    assert.match(out, /opened here: resource "vitest-session" at test\/testing\/fixtures\/vitest\/leaks\.test\.ts:30:5/);
    assert.match(out, /Tests {2}3 failed \| 2 passed \(5\)/);
  });

  it("Jest: concurrent wrapped tests and setupLeakChecks()", () => {
    const r = run(["node_modules/jest/bin/jest.js", "--config", "test/testing/fixtures/jest/jest.config.cjs", "--verbose"]);
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 1);
    assert.match(out, /✕ jest leaks a task/);
    assert.match(out, /✓ jest concurrent clean/);
    assert.match(out, /✕ jest leaks an interval/);
    assert.match(out, /✕ jest leaves a resource open/);
    assert.match(out, /✓ jest clean unwrapped/);
    assert.match(out, /spawned here: task "jest-orphan" at test\/testing\/fixtures\/jest\/leaks\.test\.cjs:14:5/);
    // named after the test (concurrent ones too), not "test#1"
    assert.match(out, /LeakError: test "wrapped, concurrent jest leaks a task" leaked 1 thing\(s\)/);
    assert.doesNotMatch(out, /test "test#\d+"/);
    assert.doesNotMatch(out, /test "wrapped, concurrent jest concurrent clean" leaked/);
    assert.match(out, /created here: code "setInterval" at test\/testing\/fixtures\/jest\/leaks\.test\.cjs:26:20/);
    assert.match(out, /Tests: {7}3 failed, 2 passed, 5 total/);
  });
});
