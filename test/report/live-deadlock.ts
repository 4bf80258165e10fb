// A real deadlock (the seed's 2.2) with what a report would get: the findings, a snapshot taken
// the moment it was found (as dump() in an onDiagnosis handler would), and the timeline.
import assert from "node:assert/strict";
import { configure, getConfig } from "../../src/core/config.js";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { DeadlockError } from "../../src/core/errors.js";
import { snapshot } from "../../src/core/registry.js";
import type { Snapshot } from "../../src/core/registry.js";
import { TimelineRecorder } from "../../src/diagnose/timeline.js";
import { Mutex } from "../../src/sync/index.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { deferred } from "../helpers.js";

/** Runs the seed's 2.2 (two locks in opposite orders) and returns what a report would get. */
export async function liveDeadlock(): Promise<{ diagnoses: Diagnosis[]; snapshot: Snapshot; timeline: ReturnType<TimelineRecorder["events"]> }> {
  const found: Diagnosis[] = [];
  let atDeadlock: Snapshot | undefined;
  const prev = getConfig().onDiagnosis;
  const prevMode = getConfig().mode;
  // debug mode, as under asyncdoctor run: the await graph proves the cycle the moment it forms
  configure({
    mode: "debug",
    onDiagnosis: (d) => {
      found.push(d);
      if (d.rule === "deadlock-cycle") atDeadlock ??= snapshot();
    },
  });
  using rec = new TimelineRecorder().start();
  try {
    const accounts = new Mutex({ name: "accounts", captureSites: true });
    const audit = new Mutex({ name: "audit", captureSites: true });
    const tracker = new TaskTracker({ name: "transfers" });
    const bothHold = deferred();
    let holding = 0;
    const step = async () => {
      if (++holding === 2) bothHold.resolve();
      await bothHold.promise;
    };
    const a = tracker.spawn(
      () =>
        accounts.runExclusive(async () => {
          await step();
          await audit.runExclusive(() => {});
        }),
      { name: "transfer-a" },
    );
    const b = tracker.spawn(
      () =>
        audit.runExclusive(async () => {
          await step();
          await accounts.runExclusive(() => {});
        }),
      { name: "transfer-b" },
    );
    const results = await Promise.allSettled([a, b]);
    assert.equal(results.filter((r) => r.status === "rejected" && r.reason instanceof DeadlockError).length, 1);
    return { diagnoses: found, snapshot: atDeadlock!, timeline: rec.events() };
  } finally {
    configure({ onDiagnosis: prev, mode: prevMode });
  }
}
