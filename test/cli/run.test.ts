// `asyncdoctor run` as a process: signals sent to its own pid reach the program (report printed,
// exit code kept), bad --fail-on / ASYNCDOCTOR_FAIL_ON / --report values stop it before the
// program starts, a TypeScript syntax error is one clear message, and the --stuck-after watchdog.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const fixture = (name: string) => `test/cli/fixtures/${name}`;

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  delete e.NODE_TEST_CONTEXT;
  return e;
}

function cli(args: string[], extra: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ["bin/asyncdoctor.js", ...args], { encoding: "utf8", env: env(extra) });
}

/** Starts `run`, sends `signal` to run's own pid once the program says "ready", and resolves with how it ended. */
function runAndSignal(args: readonly string[], signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // stdin is not a terminal here, as under docker or systemd
    const child = spawn(process.execPath, ["bin/asyncdoctor.js", "run", ...args], { env: env(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let sent = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (!sent && stdout.includes("ready")) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("asyncdoctor run: signals", () => {
  it("passes SIGTERM sent to its own pid to the program, which prints its report; exits 128+15", async () => {
    const r = await runAndSignal([fixture("run-signal.ts")], "SIGTERM");
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /exit report \(SIGTERM\)/);
    assert.match(r.stderr, /task "long-upload" was still running when the process received SIGTERM; its work was cut off/);
  });

  it("passes SIGINT on as well (not from a terminal)", async () => {
    const r = await runAndSignal([fixture("run-signal.ts")], "SIGINT");
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /exit report \(SIGINT\)/);
  });

  it("keeps the exit code of a program that handles the signal itself", async () => {
    const r = await runAndSignal([fixture("run-signal.ts"), "handle"], "SIGTERM");
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stdout, /shutting down/);
  });
});

describe("asyncdoctor run: bad settings fail at start", () => {
  it("rejects an unknown --fail-on rule id, naming the likely one", () => {
    const r = cli(["run", fixture("run-signal.ts"), "--fail-on", "leaked-task,leaked-tsak"]);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /asyncdoctor run: --fail-on: unknown rule id "leaked-tsak" \(did you mean "leaked-task"\?\); the runtime rule ids are deadlock-reentrant, /,
    );
    assert.doesNotMatch(r.stdout, /ready/, "the program did not start");
  });

  it("rejects an unknown rule id in ASYNCDOCTOR_FAIL_ON, and an empty --fail-on", () => {
    const r = cli(["run", fixture("run-signal.ts")], { ASYNCDOCTOR_FAIL_ON: "nope" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /ASYNCDOCTOR_FAIL_ON: unknown rule id "nope"; the runtime rule ids are/);
    const empty = cli(["run", fixture("run-signal.ts"), "--fail-on", " , "]);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /--fail-on: expected comma-separated rule ids or "all", got " , "/);
  });

  it("rejects ASYNCDOCTOR_FAIL_ON with an unknown id under --import asyncdoctor/register too", () => {
    const r = spawnSync(process.execPath, ["--import", "asyncdoctor/register", "-e", "console.log('started')"], {
      encoding: "utf8",
      env: env({ ASYNCDOCTOR_FAIL_ON: "never-setled" }),
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /ASYNCDOCTOR_FAIL_ON: unknown rule id "never-setled" \(did you mean "never-settled"\?\)/);
    assert.doesNotMatch(r.stdout, /started/);
  });

  it("rejects a --report path that cannot be written: a missing folder, a directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-run-"));
    try {
      const missing = cli(["run", fixture("run-signal.ts"), "--report", join(dir, "no", "such", "out.json")]);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /--report: cannot write ".*out\.json": its folder .* does not exist/);
      const asDir = join(dir, "out.json");
      mkdirSync(asDir);
      const isDir = cli(["run", fixture("run-signal.ts"), "--report", asDir]);
      assert.equal(isDir.status, 2);
      assert.match(isDir.stderr, /--report: cannot write ".*out\.json": it is a directory/);
      const under = cli(["run", fixture("run-signal.ts"), "--report", "/etc/passwd/out.json"]);
      assert.equal(under.status, 2);
      assert.match(under.stderr, /a part of its path is not a folder/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("accepts every runtime rule id and leaves no file behind from the check", () => {
    const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-run-"));
    try {
      const file = join(dir, "clean.ts");
      writeFileSync(file, "console.log('clean');\n");
      const r = cli(["run", file, "--fail-on", "leaked-task,never-settled,timeout,leaked-timer", "--report", join(dir, "out.json")]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /clean/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a bad --stuck-after", () => {
    const r = cli(["run", fixture("run-signal.ts"), "--stuck-after", "soon"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--stuck-after: expected a number of milliseconds > 0 \(and below 2\^31\), got "soon"/);
  });
});

describe("asyncdoctor run: a TypeScript syntax error", () => {
  it("prints one clear message with the line, not the compiler's stack", () => {
    const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-run-"));
    try {
      const file = join(dir, "broken.ts");
      writeFileSync(file, "const x: number = 1;\nfunction f( {\n  return x\n}\n");
      const r = cli(["run", file]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^asyncdoctor run: syntax error in \/.*broken\.ts:3:10: Expected "}" but found "x"\n {2}3 \| {3}return x\n {15}\^\n$/);
      assert.doesNotMatch(r.stderr, /esbuild|failureErrorWithLog|TransformError/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves a runtime error as Node prints it", () => {
    const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-run-"));
    try {
      const file = join(dir, "throws.ts");
      writeFileSync(file, "const n: number = 1;\nthrow new Error(`boom ${n}`);\n");
      const r = cli(["run", file]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /Error: boom 1\n\s+at .*throws\.ts:2/);
      assert.doesNotMatch(r.stderr, /syntax error/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("asyncdoctor run --stuck-after", () => {
  it("reports the stuck await on a live loop: its chain, the event it waits for (already emitted), and what keeps the loop alive", () => {
    const r = cli(["run", fixture("run-stuck.ts"), "--stuck-after", "150"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /stuck awaits \(pending over 150 ms\)/);
    assert.match(
      r.stderr,
      /OBSERVED await that can never settle \[never-settled\]\n {2}waitUntilReady\(\) has been awaiting a promise for \d+ ms \(in task "worker"\); seen by the --stuck-after watchdog; it waits for event "ready", which was emitted before the listener was added/,
    );
    assert.match(r.stderr, /startWorker awaits the next step here[\s\S]*waitUntilReady awaits the pending promise here/);
    assert.match(r.stderr, /could settle it: promise "a listener for event "ready" on EventEmitter" at test\/cli\/fixtures\/run-stuck\.ts:12:37/);
    assert.match(r.stderr, /already emitted 1 time\(s\) before the listener was added, while nothing listened: the listener missed it/);
    assert.match(r.stderr, /keeps the event loop alive: resource "setInterval" at test\/cli\/fixtures\/run-stuck\.ts:9:14/);
    assert.doesNotMatch(r.stdout, /worker started/);
  });

  it("makes the report again when a signal ends the program, with the same threshold", async () => {
    const r = await runAndSignal([fixture("run-stuck.ts"), "--stuck-after", "150", "--", "signal"], "SIGTERM");
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /exit report \(SIGTERM\)/);
    assert.match(r.stderr, /waitUntilReady\(\) has been awaiting a promise for \d+ ms \(in task "worker"\); seen when the process received SIGTERM/);
  });
});
