// monitorLoopBlocking() in-process: a long continuation is named with its task; short ones, and
// the continuation that was running when the monitor started, are not reported.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createHook } from "node:async_hooks";
import assert from "node:assert/strict";
import { addCollector } from "../../src/core/diagnosis.js";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { configure } from "../../src/core/config.js";
import { execSync } from "node:child_process";
import { classifyStall, loopBlockedDiagnosis, monitorLoopBlocking } from "../../src/diagnose/loop-blocking.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";

configure({ onDiagnosis: () => {} });

/**
 * `ms` of this thread's own CPU time (Linux: its scheduler statistics; elsewhere the process's):
 * a wall-clock deadline would be less work on a loaded machine, and the process's CPU counts
 * other threads' too.
 */
function busy(ms: number): void {
  const cpu = (): number => {
    try {
      return Number(readFileSync("/proc/thread-self/schedstat", "latin1").split(" ")[0]) / 1e6;
    } catch {
      const c = process.cpuUsage();
      return (c.user + c.system) / 1000;
    }
  };
  const end = cpu() + ms;
  while (cpu() < end) {
    // synchronous work: nothing else can run
  }
}

/** Runs `fn` with the monitor on and returns the loop-blocked reports made meanwhile. */
async function blocks(fn: (tracker: TaskTracker) => Promise<unknown>): Promise<Diagnosis[]> {
  const found: Diagnosis[] = [];
  const stopCollecting = addCollector((d) => {
    if (d.rule === "loop-blocked") found.push(d);
  });
  const stop = monitorLoopBlocking({ thresholdMs: 60 });
  try {
    await fn(new TaskTracker({ name: "t", captureSites: true }));
    await new Promise((r) => setImmediate(r)); // reports are made on the next turn
  } finally {
    stop();
    stopCollecting();
  }
  return found;
}

describe("monitorLoopBlocking()", () => {
  it("reports a long continuation with its task and duration", async () => {
    const found = await blocks((tracker) =>
      tracker.spawn(
        async () => {
          await Promise.resolve();
          busy(150);
        },
        { name: "parse-big-json" },
      ),
    );
    assert.equal(found.length, 1);
    assert.match(found[0]!.summary, /blocked for (\d+) ms by a promise continuation in task "parse-big-json"/);
    const ms = Number(/for (\d+) ms/.exec(found[0]!.summary)![1]);
    assert.ok(ms >= 150 && ms < 10_000, `${ms} ms`);
    assert.match(found[0]!.site?.file ?? "", /loop-blocking\.test\.ts$/);
  });

  it("names the task whichever order Node's own promise hook was registered in", async () => {
    // enabling an async hook (re-)registers Node's context-switching promise hook
    for (const when of ["before", "after"] as const) {
      let hook: ReturnType<typeof createHook> | undefined;
      if (when === "before") hook = createHook({ init() {} }).enable();
      const found = await blocks(async (tracker) => {
        if (when === "after") hook = createHook({ init() {} }).enable();
        await tracker.spawn(
          async () => {
            await Promise.resolve();
            busy(100);
          },
          { name: `render-${when}` },
        );
      });
      hook?.disable();
      assert.equal(found.length, 1, when);
      assert.match(found[0]!.summary, new RegExp(`in task "render-${when}"`));
    }
  });

  it("stays silent for short continuations that yield to the loop, and for the one running when it started", async () => {
    const found = await blocks(async (tracker) => {
      for (let i = 0; i < 20; i++) {
        await tracker.spawn(async () => {
          await Promise.resolve();
          busy(2);
        });
        // (chained microtasks alone would not let the loop turn: together they would block it)
        await new Promise((r) => setImmediate(r));
      }
    });
    // a stall during which the process hardly ran (a loaded machine) is only a "potential" one
    assert.deepEqual(
      found.filter((d) => d.certainty === "observed").map((d) => d.summary),
      [],
    );
  });

  it("names the spawned task whose synchronous body blocked the loop (not a continuation, no task)", async () => {
    const found = await blocks(async (tracker) => {
      await new Promise((r) => setImmediate(r));
      // spawned from a callback: the body runs inside spawn(), before any await
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          tracker.spawn(
            () => {
              busy(150);
            },
            { name: "hash-passwords" },
          );
          tracker.spawn(
            async () => {
              busy(120);
              await Promise.resolve();
            },
            { name: "build-index" },
          );
          resolve();
        }),
      );
      await tracker.waitAll();
    });
    const summaries = found.map((d) => d.summary);
    assert.equal(found.length, 2, summaries.join("\n"));
    assert.match(summaries[0]!, /blocked for \d+ ms by the synchronous body of a spawned task in task "hash-passwords"/);
    assert.match(summaries[1]!, /by the synchronous body of a spawned task in task "build-index"/);
    assert.doesNotMatch(summaries.join("\n"), /no tracked task was running/);
  });

  it("stays silent for short spawned bodies", async () => {
    const found = await blocks(async (tracker) => {
      await new Promise((r) => setImmediate(r));
      for (let i = 0; i < 10; i++) {
        tracker.spawn(() => busy(2), { name: `small-${i}` });
        await new Promise((r) => setImmediate(r));
      }
      await tracker.waitAll();
    });
    assert.deepEqual(
      found.filter((d) => d.certainty === "observed").map((d) => d.summary),
      [],
    );
  });

  it("still reports a blocking system call, which uses little CPU but is the program's doing", async () => {
    const found = await blocks((tracker) =>
      tracker.spawn(
        async () => {
          await Promise.resolve();
          execSync("sleep 0.2");
        },
        { name: "shell-out" },
      ),
    );
    assert.equal(found.length, 1, found.map((d) => d.summary).join("\n"));
    assert.equal(found[0]!.certainty, "observed");
    assert.match(found[0]!.summary, /in task "shell-out"/);
  });
});

/** A CommonJS module whose loading takes `ms` of CPU (a big package, or tsx compiling one). */
function slowModule(dir: string, name: string, ms: number): string {
  const file = join(dir, `${name}.cjs`);
  writeFileSync(
    file,
    `const { readFileSync } = require("node:fs");\n` +
      `const cpu = () => { try { return Number(readFileSync("/proc/thread-self/schedstat", "latin1").split(" ")[0]) / 1e6; } catch { const c = process.cpuUsage(); return (c.user + c.system) / 1000; } };\n` +
      `const end = cpu() + ${ms};\n` +
      `while (cpu() < end) {}\n` +
      `module.exports = ${JSON.stringify(name)};\n`,
  );
  return file;
}

describe("monitorLoopBlocking() and module loading", () => {
  const require = createRequire(import.meta.url);

  it("does not count a stretch spent loading modules (a lazy require(), as knex loads its driver) as blocking", async () => {
    const dir = mkdtempSync(join(tmpdir(), "loop-blocking-"));
    try {
      const a = slowModule(dir, "driver", 150);
      const b = slowModule(dir, "dialect", 150);
      const found = await blocks(async (tracker) => {
        await tracker.spawn(
          async () => {
            await Promise.resolve();
            require(a);
          },
          { name: "first-query" },
        );
        // and in a timer callback (the lag check)
        await new Promise<void>((resolve) =>
          setTimeout(() => {
            require(b);
            resolve();
          }, 1),
        );
      });
      assert.deepEqual(
        found.map((d) => d.summary),
        [],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("still reports the program's own work in a stretch that also loaded a module, and says how much was loading", async () => {
    const dir = mkdtempSync(join(tmpdir(), "loop-blocking-"));
    try {
      const a = slowModule(dir, "report-lib", 80);
      const found = await blocks((tracker) =>
        tracker.spawn(
          async () => {
            await Promise.resolve();
            require(a);
            busy(150);
          },
          { name: "build-report" },
        ),
      );
      assert.equal(found.length, 1, found.map((d) => d.summary).join("\n"));
      assert.match(found[0]!.summary, /in task "build-report"/);
      assert.match(found[0]!.summary, /\d+ ms of it was spent loading modules, not counted against the threshold/);
      assert.ok(Number(found[0]!.data?.loadingMs) > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("classifyStall() and the loop-blocked report", () => {
  it("busy when its own work passed the threshold; starved when only the wait for a CPU did; a system call when it slept", () => {
    const t = { thresholdMs: 100 };
    assert.equal(classifyStall({ wallMs: 300, cpuMs: 290, waitMs: 5, ...t }), "busy");
    assert.equal(classifyStall({ wallMs: 1500, cpuMs: 300, waitMs: 1200, ...t }), "busy", "a long job on a loaded machine still blocks");
    assert.equal(classifyStall({ wallMs: 300, cpuMs: 4, waitMs: 280, ...t }), "starved");
    assert.equal(classifyStall({ wallMs: 157, cpuMs: 40, waitMs: 100, ...t }), "starved", "a short chunk that waited for a CPU");
    assert.equal(classifyStall({ wallMs: 300, cpuMs: 4, waitMs: 2, ...t }), "syscall");
    assert.equal(classifyStall({ wallMs: 300, cpuMs: 80, ...t }), "busy", "no scheduler figures: a fifth of a core or more is busy");
    assert.equal(classifyStall({ wallMs: 300, cpuMs: 4, ...t }), "starved", "no scheduler figures: little CPU is taken for starvation");
  });

  it("says what kind of stall it was", () => {
    assert.match(loopBlockedDiagnosis(250, undefined, "a callback", 100, 3, "syscall").summary, /used only 3 ms of CPU meanwhile: a blocking system call/);
    assert.equal(loopBlockedDiagnosis(250, undefined, "a callback", 100, 240).certainty, "observed");
    assert.equal(loopBlockedDiagnosis(250, undefined, "a callback", 100, 3, "starved").certainty, "potential");
  });
});
