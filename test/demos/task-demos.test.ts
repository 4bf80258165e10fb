/**
 * The foundation's demos: each runs, its bug half is reported (or shown) and its fixed half is not.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { memoryOutput } from "../../demos/demo.js";
import { taskLeak } from "../../demos/task-leak.js";
import { unawaitedGather } from "../../demos/unawaited-gather.js";
import { timeout } from "../../demos/timeout.js";
import { gatherExceptions } from "../../demos/gather-exceptions.js";
import { swallowedException } from "../../demos/swallowed-exception.js";
import { demos } from "../../demos/index.js";

describe("task demos", () => {
  it("task-leak: the short shutdown names each cut-off task with its spawn line; the fix loses nothing", async () => {
    const out = memoryOutput();
    const { bug, fixed } = await taskLeak.run(out);
    assert.ok(bug.length >= 1);
    assert.ok(bug.every((d) => d.rule === "leaked-task"));
    assert.ok(
      bug.every((d) => d.subjects.some((s) => s.site?.file.endsWith("task-leak.ts"))),
      "each report names the spawn site",
    );
    assert.deepEqual(fixed, []);
    assert.match(out.text, /sent 5 of 5/);
  });

  it("unawaited-gather: the caller returns before the work; awaited, all of it is done", async () => {
    const out = memoryOutput();
    await unawaitedGather.run(out);
    assert.match(out.text, /saved when the function returned: 0 of 2/);
    assert.match(out.text, /with await: 2 of 2/);
  });

  it("timeout: the hung operation becomes a named timeout report", async () => {
    const out = memoryOutput();
    const { bug, fixed } = await timeout.run(out);
    assert.deepEqual(
      bug.map((d) => d.rule),
      ["timeout"],
    );
    assert.match(bug[0]!.summary, /did not finish within 50 ms/);
    assert.deepEqual(fixed, []);
  });

  it("gather-exceptions: Promise.all surfaces one failure, the TaskGroup lists all three", async () => {
    const out = memoryOutput();
    await gatherExceptions.run(out);
    assert.match(out.text, /caught: task 0 failed/);
    for (const i of [0, 2, 4]) assert.match(out.text, new RegExp(`task "may-fail-${i}": Error: task ${i} failed`));
    assert.match(out.text, /err\.errors\.length === 3/);
  });

  it("swallowed-exception: the background failure is reported with its task's name; awaited, it is handled", async () => {
    const out = memoryOutput();
    const { bug, fixed } = await swallowedException.run(out);
    assert.deepEqual(
      bug.map((d) => d.rule),
      ["task-failed"],
    );
    assert.match(bug[0]!.summary, /"sync-job-17"/);
    assert.deepEqual(fixed, []);
  });

  it("every demo has a unique name, a title and its seed reference", () => {
    const names = demos.map((d) => d.name);
    assert.equal(new Set(names).size, names.length);
    for (const d of demos) {
      assert.match(d.name, /^[a-z0-9-]+$/);
      assert.ok(d.title.length > 10 && d.seed.length > 0);
    }
  });
});

describe("counter-race demo", () => {
  it("loses updates silently on a plain variable, reports them on a Shared, and the fix counts to 20", async () => {
    const { counterRace } = await import("../../demos/counter-race.js");
    const out = memoryOutput();
    const { bug, fixed } = await counterRace.run(out);
    assert.match(out.text, /counter = \d+ \(expected 20\); \d+ increments lost/);
    assert.deepEqual(
      bug.map((d) => d.rule),
      ["lost-update"],
    );
    assert.match(bug[0]!.summary, /task "worker-\d+" read it, awaited/);
    assert.deepEqual(fixed, []);
    assert.match(out.text, /counter = 20 \(expected 20\); reports: 0/);
  });
});
