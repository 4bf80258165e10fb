// Behaviour at process level: the exit report of the default tracker, and the guards.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

function run(fixture: string, extraArgs: string[] = []) {
  const file = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  return spawnSync(process.execPath, [...extraArgs, "--import", "tsx", file], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
}

describe("process level", () => {
  it("reports default-tracker tasks still running at exit as leaked-task", () => {
    const r = run("exit-with-pending.ts");
    assert.equal(r.status, 0);
    assert.match(r.stderr, /OBSERVED leaked task \[leaked-task\]/);
    assert.match(r.stderr, /task "upload-report" was still running when the process exited \(code 0\); its work was cut off/);
    assert.doesNotMatch(r.stderr, /"quick"/);
  });

  it("reports an unhandled rejection with the task that created the promise, then fails as Node would", () => {
    const r = run("unhandled.ts");
    assert.notEqual(r.status, 0, "the process still fails, as without asyncdoctor");
    assert.match(r.stderr, /PROVEN unhandled rejection \[unhandled-rejection\]/);
    assert.match(r.stderr, /a promise rejected with no handler in task "sync-inventory": Error: lost in the background/);
    assert.match(r.stderr, /created here: promise "the rejected promise" at test\/tasks\/fixtures\/unhandled\.ts:8/);
  });

  it("keeps --unhandled-rejections=warn behaviour: reported, and the program goes on", () => {
    const r = run("unhandled-warn.ts", ["--unhandled-rejections=warn"]);
    assert.equal(r.status, 0);
    assert.match(r.stderr, /\[unhandled-rejection\]/);
    assert.match(r.stdout, /still running/);
  });
});
