// async-mutex and generic-pool at the drain, in a whole program under debug mode: a bare acquire is never a party
// while the loop runs (anyone may release it), but once the loop is empty nobody can. The very
// call that holds the lock and has not finished, asking for it again or waiting for it to be
// free, waits for itself: proven deadlock-reentrant at that line, in the exit report too.
// Correct programs, and a lock leaked by a call that has finished, are not called re-entrant.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

interface Finding {
  rule: string;
  certainty: string;
  summary: string;
  site?: { line: number };
}

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/drain/${name}`, import.meta.url));

/** Runs a fixture under `--import asyncdoctor/register` and returns its output and exit report. */
function run(name: string): { stdout: string; stderr: string; findings: Finding[] } {
  const dir = mkdtempSync(join(tmpdir(), "am-drain-"));
  try {
    const file = join(dir, "report.json");
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ASYNCDOCTOR_REPORT: file };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--import", "asyncdoctor/register", fixture(name)], { encoding: "utf8", env, timeout: 60_000 });
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { diagnoses: Finding[] };
    return { stdout: r.stdout, stderr: r.stderr, findings: parsed.diagnoses };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const reentrant = (f: Finding[]) => f.filter((d) => d.rule === "deadlock-reentrant");

describe("async-mutex: the holder's own wait, proven at the drain", () => {
  it("a bare acquire, then runExclusive on the same mutex in the same call: deadlock-reentrant at the runExclusive", () => {
    const r = run("lock-then-run-exclusive.ts");
    const found = reentrant(r.findings);
    assert.equal(found.length, 1, JSON.stringify(r.findings, null, 1));
    assert.equal(found[0]!.certainty, "proven");
    assert.equal(found[0]!.site?.line, 8);
    assert.match(
      found[0]!.summary,
      /task "append\(\) at .*:7" holds mutex "journal \(.*:4\)" \(a bare acquire\(\) it never released\) and asks for it again(?: and awaits it)? at .*:8/,
    );
    assert.match(r.stdout, /caught DeadlockError/);
  });

  it("Promise.all of acquire() and waitForUnlock() by the holder: deadlock-reentrant at the waitForUnlock", () => {
    const r = run("acquire-and-wait-for-unlock.ts");
    const found = reentrant(r.findings);
    assert.equal(found.length, 1, JSON.stringify(r.findings, null, 1));
    assert.equal(found[0]!.site?.line, 8);
    assert.match(found[0]!.summary, /waits for it to be unlocked \(waitForUnlock\)/);
    assert.match(r.stdout, /caught DeadlockError/);
  });

  it("waitForUnlock() while holding the mutex: deadlock-reentrant", () => {
    const r = run("hold-then-wait-for-unlock.ts");
    const found = reentrant(r.findings);
    assert.equal(found.length, 1, JSON.stringify(r.findings, null, 1));
    assert.equal(found[0]!.site?.line, 8);
  });

  it("stays silent when another call releases the lock a waitForUnlock() waits on", () => {
    const r = run("wait-for-unlock-released.ts");
    assert.match(r.stdout, /free false[\s\S]*done/);
    assert.deepEqual(r.findings, []);
  });

  it("stays silent for a follow-up the holder asks for without awaiting it, run after the release", () => {
    const r = run("follow-up-after-release.ts");
    assert.match(r.stdout, /first,follow-up,last/);
    assert.deepEqual(r.findings, []);
  });

  it("a holder that asks again without awaiting it is named as the holder of what the request waits for, not as waiting for itself", () => {
    const r = run("ask-without-awaiting.ts");
    const found = reentrant(r.findings);
    assert.equal(found.length, 1, JSON.stringify(r.findings, null, 1));
    assert.equal(found[0]!.site?.line, 9);
    assert.match(found[0]!.summary, /\(it holds the lock that request waits for\)$/);
    assert.doesNotMatch(found[0]!.summary, /waits for itself/);
  });

  it("a lock leaked by a call that has finished is not called re-entrant", () => {
    const r = run("leaked-by-finished-call.ts");
    assert.deepEqual(reentrant(r.findings), [], JSON.stringify(r.findings, null, 1));
    assert.ok(r.findings.length > 0, "the leak itself is still reported");
    // nothing waits in a cycle: the fact is a lock left held with nothing left to release it
    assert.equal(r.findings.filter((d) => d.rule === "deadlock-cycle").length, 0, JSON.stringify(r.findings, null, 1));
    const leak = r.findings.find((d) => d.rule === "leaked-lock" && d.certainty === "proven");
    assert.ok(leak, JSON.stringify(r.findings, null, 1));
    assert.match(leak.summary, /waits for mutex .* for ever: the event loop is empty/);
    assert.match(r.stdout, /caught DeadlockError/);
  });
});

describe("generic-pool: the holder's own second acquire, proven at the drain", () => {
  it("a pool of one, asked again by the call that holds its resource: deadlock-reentrant at the second acquire", () => {
    const r = run("pool-nested-acquire.ts");
    const found = reentrant(r.findings);
    assert.equal(found.length, 1, JSON.stringify(r.findings, null, 1));
    assert.equal(found[0]!.site?.line, 8);
    assert.match(found[0]!.summary, /holds semaphore "sessions \(.*:4\)"/);
  });

  it("stays silent for two resources of a pool of two taken and released by one call", () => {
    const r = run("pool-two-within-max.ts");
    assert.match(r.stdout, /done/);
    assert.deepEqual(r.findings, []);
  });
});
