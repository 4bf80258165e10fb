// The HTML report from real primitives: a snapshot taken the moment a deadlock is found draws
// the cycle; the timeline shows the waits.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderHtml } from "../../src/report/html.js";
import { liveDeadlock } from "./live-deadlock.js";

describe("HTML report from a real deadlock", () => {
  it("draws the cycle of the snapshot taken when it was found, and the finding's own cycle", async () => {
    const { diagnoses, snapshot: snap, timeline } = await liveDeadlock();
    assert.deepEqual(diagnoses.map((d) => d.rule), ["lock-order-inversion", "deadlock-cycle"]);
    const html = renderHtml({ diagnoses, snapshot: snap, timeline });
    const i = html.indexOf('id="wait-for-graph"');
    const graph = html.slice(i, html.indexOf("</svg>", i));
    assert.equal((graph.match(/class="edge (wait|hold) cycle"/g) ?? []).length, 4, "accounts → transfer-a → audit → transfer-b → accounts");
    assert.match(graph, /transfer-a/);
    assert.match(graph, /audit/);
    const at = html.indexOf('id="diagnosis-graph-1"');
    const mini = html.slice(at, html.indexOf("</svg>", at));
    assert.equal((mini.match(/class="edge (wait|hold) cycle"/g) ?? []).length, 4, "the finding's own cycle, from its subjects and steps");
    assert.ok(timeline.some((e) => e.kind === "wait" && e.lockName === "audit" && e.taskName === "transfer-a"));
    assert.match(html, /class="bar wait/);
  });
});
