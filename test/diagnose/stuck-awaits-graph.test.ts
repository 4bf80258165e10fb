// The stuck-awaits report with the await graph on (debug mode): code outside every task is
// chained by its activations (who awaits whose call), outermost first, through Promise.all (one
// chain per branch), identical chains grouped; awaits that no fact connects stay apart.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startAwaitGraph } from "../../src/core/await-graph.js";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { configure } from "../../src/core/config.js";
import { trackPromises } from "../../src/diagnose/promise-tracking.js";
import { chainsByTask, setAwaitChainBuilder, stuckAwaitsReport } from "../../src/diagnose/stuck-awaits.js";
import { deferred } from "../tasks/helpers.js";

configure({ onDiagnosis: () => {} });
// what debug mode does (this file is compiled with the transform: scripts/test.mjs preloads it)
startAwaitGraph();

async function fetchRow(gate: Promise<void>): Promise<void> {
  await gate;
}
async function loadUser(gate: Promise<void>): Promise<void> {
  await fetchRow(gate);
}
async function handleRequest(gate: Promise<void>): Promise<void> {
  await loadUser(gate);
}
async function loadBoth(a: Promise<void>, b: Promise<void>): Promise<void> {
  await Promise.all([fetchRow(a), loadUser(b)]);
}
async function unrelated(gate: Promise<void>): Promise<void> {
  await gate;
}

const lines = (d: Diagnosis | undefined) => (d?.steps ?? []).map((s) => `${s.site?.functionName}:${s.site?.line}`);
const settle = () => new Promise((r) => setImmediate(r));

describe("stuckAwaitsReport() with the await graph", () => {
  it("chains awaiting calls outside every task, outermost first, and names the outer lines as subjects", async () => {
    const stop = trackPromises();
    const gate = deferred();
    try {
      const running = handleRequest(gate.promise);
      await settle();
      const found = stuckAwaitsReport("dump", { thresholdMs: 0, handles: false });
      const chain = found.find((d) => d.site?.functionName === "fetchRow");
      assert.deepEqual(lines(chain), ["handleRequest:24", "loadUser:21", "fetchRow:18"]);
      assert.deepEqual(
        chain!.subjects.filter((s) => s.kind === "code").map((s) => s.site?.line),
        [24, 21],
      );
      assert.equal(
        found.filter((d) => d.site?.functionName === "loadUser" || d.site?.functionName === "handleRequest").length,
        0,
        "the outer awaits are not findings of their own",
      );
      gate.resolve();
      await running;
    } finally {
      stop();
    }
  });

  it("follows Promise.all into each branch: one chain per branch", async () => {
    const stop = trackPromises();
    const a = deferred();
    const b = deferred();
    try {
      const running = loadBoth(a.promise, b.promise);
      await settle();
      const found = stuckAwaitsReport("dump", { thresholdMs: 0, handles: false });
      const chains = found
        .map(lines)
        .filter((l) => l[0] === "loadBoth:27")
        .sort();
      assert.deepEqual(chains, [
        ["loadBoth:27", "fetchRow:18"],
        ["loadBoth:27", "loadUser:21", "fetchRow:18"],
      ]);
      a.resolve();
      b.resolve();
      await running;
    } finally {
      stop();
    }
  });

  it("groups identical chains, and keeps awaits no fact connects apart", async () => {
    const stop = trackPromises();
    const gate = deferred();
    const other = deferred();
    try {
      const running = [handleRequest(gate.promise), handleRequest(gate.promise), unrelated(other.promise)];
      await settle();
      const found = stuckAwaitsReport("dump", { thresholdMs: 0, handles: false });
      const chained = found.filter((d) => d.site?.functionName === "fetchRow");
      assert.equal(chained.length, 1);
      assert.equal(chained[0]!.data?.count, 2);
      const alone = found.filter((d) => d.site?.functionName === "unrelated");
      assert.equal(alone.length, 1);
      assert.equal(alone[0]!.steps, undefined);
      gate.resolve();
      other.resolve();
      await Promise.all(running);
    } finally {
      stop();
    }
  });

  it("uses per-task chains when told to", async () => {
    const stop = trackPromises();
    const gate = deferred();
    try {
      setAwaitChainBuilder(chainsByTask);
      const running = handleRequest(gate.promise);
      await settle();
      const found = stuckAwaitsReport("dump", { thresholdMs: 0, handles: false });
      // outside every task, the per-task builder makes one finding per line
      assert.equal(found.filter((d) => ["fetchRow", "loadUser", "handleRequest"].includes(d.site?.functionName ?? "")).length, 3);
      gate.resolve();
      await running;
    } finally {
      setAwaitChainBuilder(undefined);
      stop();
    }
  });
});
