// The HTML report from real primitives: a snapshot taken the moment a deadlock is found draws
// the cycle; the timeline shows the waits.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderHtml } from "../../src/report/html/page.js";
import { liveDeadlock } from "./live-deadlock.js";
import { snapshot } from "../../src/core/registry.js";
import { TimelineRecorder } from "../../src/diagnose/timeline.js";
import { Mutex, Pool } from "../../src/sync/index.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { deferred } from "../helpers.js";

describe("HTML report from a real deadlock", () => {
  it("draws the cycle of the snapshot taken when it was found, and the finding's own cycle", async () => {
    const { diagnoses, snapshot: snap, timeline } = await liveDeadlock();
    assert.deepEqual(
      diagnoses.map((d) => d.rule),
      ["deadlock-cycle"], // one bug, one report: the proven cycle is not also a potential inversion
    );
    const html = renderHtml({ diagnoses, snapshot: snap, timeline });
    const i = html.indexOf('id="wait-for-graph"');
    const graph = html.slice(i, html.indexOf("</svg>", i));
    assert.equal((graph.match(/class="edge (wait|hold) cycle"/g) ?? []).length, 4, "accounts → transfer-a → audit → transfer-b → accounts");
    assert.match(graph, /transfer-a/);
    assert.match(graph, /audit/);
    const at = html.indexOf('id="diagnosis-graph-0"');
    const mini = html.slice(at, html.indexOf("</svg>", at));
    assert.equal((mini.match(/class="edge (wait|hold) cycle"/g) ?? []).length, 4, "the finding's own cycle, from its subjects and steps");
    assert.ok(timeline.some((e) => e.kind === "wait" && e.lockName === "audit" && e.taskName === "transfer-a"));
    assert.match(html, /class="bar wait/);
  });

  it("draws contention that resolved: every wait ended at its acquire, in the waiting task's lane, no cycle", async () => {
    using rec = new TimelineRecorder().start();
    const m = new Mutex({ name: "m" });
    const p = new Pool({ name: "p", max: 1, create: () => ({}) });
    const tracker = new TaskTracker();
    const gate = deferred();
    const a = tracker.spawn(() => m.runExclusive(() => gate.promise), { name: "first" });
    const b = tracker.spawn(() => m.runExclusive(() => p.use(() => 1)), { name: "second" });
    const midway = renderHtml({ diagnoses: [], snapshot: snapshot(), timeline: rec.events() });
    gate.resolve();
    await Promise.all([a, b]);
    const html = renderHtml({ diagnoses: [], snapshot: snapshot(), timeline: rec.events() });
    assert.equal((html.match(/class="bar wait open"/g) ?? []).length, 0, "no wait left open");
    assert.equal((html.match(/class="bar wait"/g) ?? []).length, 1);
    assert.equal((html.match(/class="lane"/g) ?? []).length, 2, "scopes drawn in their task's lane");
    assert.doesNotMatch(html, /class="(edge|node) [a-z ]*cycle"/);
    // while it waited, the graph showed second → m → first, with no cycle
    const i = midway.indexOf('id="wait-for-graph"');
    const graph = midway.slice(i, midway.indexOf("</svg>", i));
    assert.equal((graph.match(/class="edge (wait|hold)"/g) ?? []).length, 2);
    assert.doesNotMatch(graph, /class="(edge|node) [a-z ]*cycle"/);
  });
});
