// Dropped promises in a whole program: `--import asyncdoctor/register` compiles it with the
// await-graph transform and reports at the end (or names the drop line of an unhandled rejection).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

function register(scenario: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extraEnv };
  delete env.NODE_TEST_CONTEXT;
  return spawnSync(process.execPath, ["--import", "tsx", "--import", "asyncdoctor/register", "test/diagnose/fixtures/dropped.ts", scenario], {
    encoding: "utf8",
    env,
  });
}

describe("dropped promises in a program (--import asyncdoctor/register)", () => {
  it("an async listener that rejects: the unhandled rejection names the emit() line that dropped it, and where it was made", () => {
    const r = register("listener-rejects");
    assert.notEqual(r.status, 0, "Node's own behaviour goes on: the process fails");
    assert.match(
      r.stderr,
      /PROVEN unhandled rejection \[unhandled-rejection\]\n {2}a promise rejected with no handler: Error: bad order -1; it was dropped at test\/diagnose\/fixtures\/dropped\.ts:18:\d+ by the emitter, which ignores what the listener registered by `emitter\.on\(\)` returns/,
    );
    assert.match(r.stderr, /dropped here: code "emitter\.on\(\)" at test\/diagnose\/fixtures\/dropped\.ts:18:\d+/);
    assert.match(r.stderr, /created here: promise "the rejected promise" at test\/diagnose\/fixtures\/dropped\.ts:(9|10):\d+/);
    assert.doesNotMatch(r.stderr, /\[dropped-promise\]/, "the rejection is the one report of it");
  });

  it("`void f()` and then process.exit(): the promise cut off, with its line; the exit code is the program's", () => {
    const r = register("void-then-exit");
    assert.equal(r.status, 0);
    assert.match(
      r.stderr,
      /OBSERVED dropped promise \[dropped-promise\]\n {2}`void save\(\)` at test\/diagnose\/fixtures\/dropped\.ts:24:\d+ dropped a promise on purpose, but it was still pending when the process exited/,
    );
    assert.doesNotMatch(r.stderr, /dropped\.ts:27/, "the command running process.exit() is not cut off by it");
  });

  it("forEach(async …) fails a --fail-on dropped-promise gate", () => {
    const r = register("for-each", { ASYNCDOCTOR_FAIL_ON: "dropped-promise" });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /ran/);
    assert.match(
      r.stderr,
      /forEach\(\) at test\/diagnose\/fixtures\/dropped\.ts:30:\d+ ignores what its callback returns: 2 promises of the async callback dropped, still pending when forEach\(\) returned/,
    );
  });

  it("stays silent on a program that awaits, handles or finishes every promise", () => {
    const r = register("control");
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /dropped-promise|unhandled-rejection/);
  });
});
