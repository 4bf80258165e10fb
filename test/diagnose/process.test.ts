// Debug mode for a whole program, at process level: `--import asyncdoctor/register` and
// `asyncdoctor run`, the exit report on each way out, loop blocking, the SIGUSR2 dump.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const fixture = (name: string) => `test/diagnose/fixtures/${name}`;

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete e.NODE_TEST_CONTEXT;
  return e;
}

function register(name: string, args: string[] = []) {
  return spawnSync(process.execPath, ["--import", "tsx", "--import", "asyncdoctor/register", fixture(name), ...args], { encoding: "utf8", env: env() });
}

function cli(args: string[]) {
  return spawnSync(process.execPath, ["bin/asyncdoctor.js", ...args], { encoding: "utf8", env: env() });
}

describe("exit report (--import asyncdoctor/register)", () => {
  it("when the loop drains: the stuck task (proven), the await it is stuck on, and the unclosed session", () => {
    const r = register("exit-stuck.ts");
    assert.equal(r.status, 0, "reporting alone does not change the exit code");
    assert.match(r.stderr, /exit report \(the event loop drained\): 3 finding\(s\)/);
    assert.match(
      r.stderr,
      /PROVEN leaked task \[leaked-task\]\n {2}task "sync-inventory" was still running when the event loop drained: nothing is left that could finish it/,
    );
    assert.match(r.stderr, /waiting at: promise "await in syncInventory" at test\/diagnose\/fixtures\/exit-stuck\.ts:14:\d+/);
    assert.match(r.stderr, /PROVEN await that can never settle \[never-settled\]\n {2}syncInventory\(\) awaits a promise that can never settle/);
    assert.match(r.stderr, /at test\/diagnose\/fixtures\/exit-stuck\.ts:14:\d+\n\s+14 \| const reply = await waitForReply\(\);/);
    assert.match(r.stderr, /OBSERVED leaked resource \[leaked-resource\]\n {2}resource "inventory-session" was never closed before the program ended/);
    assert.doesNotMatch(r.stderr, /"fine"|exit-stuck\.ts:20/, "the settled await is not reported");
  });

  it("stays silent for a correct program", () => {
    const r = register("exit-clean.ts");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /clean/);
    assert.equal(r.stderr, "");
  });

  it("on SIGTERM: the running task is reported as cut off, then the signal ends the process", () => {
    const r = register("exit-signal.ts");
    assert.equal(r.signal, "SIGTERM");
    assert.match(r.stderr, /exit report \(SIGTERM\)/);
    assert.match(
      r.stderr,
      /OBSERVED leaked task \[leaked-task\]\n {2}task "long-upload" was still running when the process received SIGTERM; its work was cut off/,
    );
  });

  it("on process.exit(): the running task is reported and the exit code is kept", () => {
    const r = register("exit-explicit.ts");
    assert.equal(r.status, 3);
    assert.match(r.stderr, /exit report \(exit\)/);
    assert.match(r.stderr, /task "nightly-report" was still running when the process exited; its work was cut off/);
    assert.doesNotMatch(r.stderr, /never-settled/, "an exit() is not a proof that nothing could settle");
  });
});

describe("loop blocking (debug mode)", () => {
  it("names the task that blocked the loop and for how long", () => {
    const r = register("loop-block.ts", ["bug"]);
    assert.equal(r.status, 0);
    // its own CPU time passed the threshold: observed, however loaded the machine
    const m =
      /OBSERVED event loop blocked \[loop-blocked\]\n {2}the event loop was blocked for (\d+) ms by a promise continuation in task "render-report"/.exec(
        r.stderr,
      );
    assert.ok(m, r.stderr);
    assert.ok(Number(m[1]) >= 250, `duration ${m[1]} ms`);
    assert.match(r.stderr, /was running: task "render-report" at test\/diagnose\/fixtures\/loop-block\.ts:28:9/);
  });

  it("stays silent when the work yields between short chunks", () => {
    const r = register("loop-block.ts", ["fixed"]);
    assert.equal(r.status, 0);
    // short chunks stay short however loaded the machine: a stall that only waited for a CPU is not reported
    assert.doesNotMatch(r.stderr, /event loop blocked/);
  });
});

describe("dump on SIGUSR2 (debug mode)", () => {
  it("prints the task tree and the open resources", () => {
    const r = register("dump-signal.ts");
    assert.equal(r.status, 0);
    assert.match(r.stderr, /asyncdoctor dump at .* \(pid \d+\)/);
    assert.match(
      r.stderr,
      /tasks \(2 pending\):\n {2}- "parent-sync" #\d+ pending \d+ ms, spawned at test\/diagnose\/fixtures\/dump-signal\.ts:6:16\n {4}- "child-fetch"/,
    );
    assert.match(r.stderr, /open resources \(\d+\):\n {2}- "db-session" open \d+ ms, opened at test\/diagnose\/fixtures\/dump-signal\.ts:9:17/);
    assert.doesNotMatch(r.stderr, /exit report/, "it finished cleanly afterwards");
  });
});

describe("asyncdoctor run", () => {
  it("runs a TypeScript entry in debug mode; --fail-on makes a finding fail; --report writes JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-run-"));
    try {
      const out = join(dir, "out.json");
      const r = cli(["run", fixture("exit-stuck.ts"), "--fail-on", "never-settled,leaked-task", "--report", out]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /\[never-settled\]/);
      assert.match(r.stderr, /failing: 2 finding\(s\) of --fail-on rules \(leaked-task, never-settled\)/);
      const doc = JSON.parse(readFileSync(out, "utf8")) as { tool: string; diagnoses: { rule: string; certainty: string }[] };
      assert.equal(doc.tool, "asyncdoctor");
      assert.deepEqual(doc.diagnoses.map((d) => `${d.certainty} ${d.rule}`).sort(), ["observed leaked-resource", "proven leaked-task", "proven never-settled"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--report out.html writes one self-contained page with the run's findings", () => {
    const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-run-"));
    try {
      const out = join(dir, "report.html");
      const r = cli(["run", fixture("exit-stuck.ts"), "--report", out]);
      assert.equal(r.status, 0, r.stderr);
      const html = readFileSync(out, "utf8");
      assert.match(html, /^<!doctype html>/i);
      assert.match(html, /never-settled/);
      assert.match(html, /leaked-task/);
      assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/i, "self-contained: nothing loaded from elsewhere");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits 0 when nothing of the --fail-on rules is found, and passes arguments after --", () => {
    const r = cli(["run", fixture("exit-clean.ts"), "--fail-on", "all", "--", "--verbose", "x"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /clean --verbose x/);
  });

  it("keeps the program's own exit code", () => {
    assert.equal(cli(["run", fixture("exit-explicit.ts")]).status, 3);
  });

  it("rejects a missing entry, a non-JSON report path and a bad threshold", () => {
    const missing = cli(["run", "no/such/file.ts"]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no such file: no\/such\/file\.ts/);
    const xml = cli(["run", fixture("exit-clean.ts"), "--report", "out.xml"]);
    assert.equal(xml.status, 2);
    assert.match(xml.stderr, /--report: expected a \.json or \.html file, got "out\.xml"/);
    const ms = cli(["run", fixture("exit-clean.ts"), "--loop-block-ms", "-5"]);
    assert.equal(ms.status, 2);
    assert.match(ms.stderr, /--loop-block-ms: expected a number of milliseconds > 0, got "-5"/);
  });
});
