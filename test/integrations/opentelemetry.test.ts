import { describe, it, afterEach } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { channels, channelNames } from "../../src/core/channels.js";
import { createDiagnosis, report } from "../../src/core/diagnosis.js";
import type { WaitTarget } from "../../src/core/task.js";
import { enableOpenTelemetry } from "../../src/integrations/opentelemetry.js";
import type { OpenTelemetryBridge } from "../../src/integrations/opentelemetry.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { Mutex } from "../../src/sync/index.js";
import { collecting, deferred } from "../helpers.js";
import { provider } from "./otel-memory.js";

const lock: WaitTarget = { name: "accounts", kind: "mutex", site: undefined, holders: () => [] };
const byName = (name: string) => provider.spans.filter((s) => s.name === name);

describe("OpenTelemetry bridge", () => {
  let bridge: OpenTelemetryBridge | undefined;
  afterEach(() => {
    bridge?.disable();
    provider.reset();
  });

  it("makes each tracked task a span, nested under its parent task, ended when it settles", async () => {
    bridge = await enableOpenTelemetry({ tracerName: "svc" });
    assert.ok(bridge);
    const tracker = new TaskTracker();
    const gate = deferred();
    const parent = tracker.spawn(
      async () => {
        const child = tracker.spawn(() => gate.promise, { name: "child" });
        assert.equal(byName("asyncdoctor.task child")[0]?.ended, false, "open while running");
        gate.resolve();
        await child;
      },
      { name: "parent" },
    );
    await parent;
    const [p] = byName("asyncdoctor.task parent");
    const [c] = byName("asyncdoctor.task child");
    assert.ok(p && c);
    assert.equal(c.parent, p);
    assert.equal(p.tracerName, "svc");
    assert.deepEqual([p.ended, c.ended], [true, true]);
    assert.equal(c.attributes["asyncdoctor.task.name"], "child");
    assert.equal(c.attributes["asyncdoctor.task.parent_id"], parent.id);
    assert.equal(c.attributes["asyncdoctor.task.state"], "fulfilled");
    assert.equal(c.status, undefined, "a task that succeeded sets no error status");
  });

  it("marks a failed task's span as an error with the exception, and a cancelled one by its state", async () => {
    bridge = await enableOpenTelemetry();
    const tracker = new TaskTracker();
    const failed = tracker.spawn(() => Promise.reject(new Error("boom")), { name: "failing" });
    await failed.catch(() => {});
    const cancelled = tracker.spawn((signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))), { name: "stopped" });
    cancelled.abort();
    await cancelled.catch(() => {});
    const [f] = byName("asyncdoctor.task failing");
    assert.deepEqual(f?.status, { code: 2, message: "boom" });
    assert.equal((f?.exceptions[0] as Error).message, "boom");
    const [s] = byName("asyncdoctor.task stopped");
    assert.equal(s?.attributes["asyncdoctor.task.state"], "cancelled");
    assert.equal(s?.status, undefined);
  });

  it("makes a lock wait a span under the waiting task, with acquire and release events", async () => {
    bridge = await enableOpenTelemetry();
    const tracker = new TaskTracker();
    const gate = deferred();
    const task = tracker.spawn(() => gate.promise, { name: "transfer" });
    channels.lockWait.publish({ lock, task: task.record, permits: 1, site: { file: "/app/transfer.ts", line: 12, column: 5 } });
    const [wait] = byName("asyncdoctor.wait mutex accounts");
    assert.ok(wait);
    assert.equal(wait.ended, false);
    channels.lockAcquire.publish({ lock, task: task.record, permits: 1 });
    channels.lockRelease.publish({ lock, task: task.record, permits: 1 });
    gate.resolve();
    await task;
    const [t] = byName("asyncdoctor.task transfer");
    assert.equal(wait.parent, t);
    assert.equal(wait.ended, true);
    assert.equal(wait.attributes["asyncdoctor.wait.outcome"], "acquired");
    assert.equal(wait.attributes["asyncdoctor.lock.name"], "accounts");
    assert.equal(wait.attributes["asyncdoctor.lock.kind"], "mutex");
    assert.equal(wait.attributes["code.filepath"], "/app/transfer.ts");
    assert.equal(wait.attributes["code.lineno"], 12);
    assert.deepEqual(
      t?.events.map((e) => [e.name, e.attributes?.["asyncdoctor.lock.name"]]),
      [
        ["asyncdoctor.acquire", "accounts"],
        ["asyncdoctor.release", "accounts"],
      ],
    );
    assert.equal(t?.events[0]?.attributes?.["asyncdoctor.waited"], true);
  });

  it("with a real Mutex: the waiter's wait span ends when its runExclusive scope gets the lock", async () => {
    bridge = await enableOpenTelemetry();
    const m = new Mutex({ name: "real" });
    const tracker = new TaskTracker();
    const gate = deferred();
    const holder = tracker.spawn(() => m.runExclusive(() => gate.promise), { name: "holder" });
    const waiter = tracker.spawn(() => m.runExclusive(() => 1), { name: "waiter" });
    const [wait] = byName("asyncdoctor.wait mutex real");
    assert.equal(wait?.ended, false, "waiting");
    gate.resolve();
    await Promise.all([holder, waiter]);
    assert.equal(wait?.ended, true);
    assert.equal(wait?.attributes["asyncdoctor.wait.outcome"], "acquired");
    assert.equal(wait?.parent, byName("asyncdoctor.task waiter")[0]);
    assert.deepEqual(
      provider.spans.filter((sp) => !sp.ended),
      [],
      "no span left open",
    );
  });

  it("ends a wait that gave up with the reason (timeout, abort, cancel) as its outcome", async () => {
    bridge = await enableOpenTelemetry();
    for (const reason of ["timeout", "abort"]) {
      channels.lockWait.publish({ lock, task: undefined, permits: 1 });
      channels.lockAbandon.publish({ lock, task: undefined, permits: 1, reason, waitedMs: 3 });
    }
    const waits = byName("asyncdoctor.wait mutex accounts");
    assert.deepEqual(
      waits.map((w) => [w.ended, w.attributes["asyncdoctor.wait.outcome"], w.parent]),
      [
        [true, "timeout", undefined],
        [true, "abort", undefined],
      ],
    );
  });

  it("adds a finding reported inside a task as an event on that task's span", async () => {
    bridge = await enableOpenTelemetry();
    const tracker = new TaskTracker();
    await collecting(async () => {
      await tracker.spawn(
        async () => {
          report(createDiagnosis({ rule: "long-wait", certainty: "observed", summary: 'waited 10 s on "accounts"', subjects: [], fix: "release it sooner" }));
        },
        { name: "slow" },
      );
    });
    const [t] = byName("asyncdoctor.task slow");
    assert.deepEqual(
      t?.events.map((e) => [e.name, e.attributes?.["asyncdoctor.rule"], e.attributes?.["asyncdoctor.certainty"], e.attributes?.["asyncdoctor.fix"]]),
      [["asyncdoctor.diagnosis", "long-wait", "observed", "release it sooner"]],
    );
  });

  it("records only what the options ask for", async () => {
    bridge = await enableOpenTelemetry({ tasks: false, diagnoses: false });
    const tracker = new TaskTracker();
    await tracker.spawn(async () => {}, { name: "quiet" });
    assert.equal(channels.taskSpawn.hasSubscribers, false);
    assert.equal(channels.diagnosis.hasSubscribers, false);
    assert.equal(channels.lockWait.hasSubscribers, true);
    assert.deepEqual(provider.spans, []);
  });

  it("disable() unsubscribes everything and ends the spans still open, marked incomplete", async () => {
    bridge = await enableOpenTelemetry();
    const tracker = new TaskTracker();
    const gate = deferred();
    const task = tracker.spawn(() => gate.promise, { name: "long" });
    assert.ok(bridge);
    bridge.disable();
    bridge.disable();
    assert.equal(bridge.enabled, false);
    for (const key of Object.keys(channelNames) as Array<keyof typeof channelNames>) {
      assert.equal(channels[key].hasSubscribers, false, channelNames[key]);
    }
    const [t] = byName("asyncdoctor.task long");
    assert.equal(t?.ended, true);
    assert.equal(t?.attributes["asyncdoctor.incomplete"], true);
    gate.resolve();
    await task;
    assert.equal(provider.spans.length, 1, "nothing recorded after disable");
  });

  it("creates no span when it is not enabled", async () => {
    const tracker = new TaskTracker();
    await tracker.spawn(async () => {}, { name: "plain" });
    channels.lockWait.publish({ lock, task: undefined });
    assert.deepEqual(provider.spans, []);
  });

  it("resolves undefined and subscribes nothing when @opentelemetry/api is not installed", () => {
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "--import", "./test/integrations/fixtures/hide-otel.mjs", "test/integrations/fixtures/otel-absent.ts"],
      { encoding: "utf8" },
    );
    assert.deepEqual(JSON.parse(out), { importable: false, bridge: "undefined", subscribed: [] });
  });

  describe("bad input", () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ["options null", null, /"options" argument must be an object\. Received null/],
      ["tracerName a number", { tracerName: 5 }, /"options\.tracerName" argument must be of type string\. Received type number \(5\)/],
      ["tasks a string", { tasks: "yes" }, /"options\.tasks" argument must be of type boolean/],
      ["locks a number", { locks: 1 }, /"options\.locks" argument must be of type boolean/],
      ["diagnoses null", { diagnoses: null }, /"options\.diagnoses" argument must be of type boolean\. Received null/],
    ];
    for (const [name, options, re] of cases) {
      it(name, async () => {
        await assert.rejects(enableOpenTelemetry(options as never), (e: Error) => e instanceof TypeError && re.test(e.message));
        assert.equal(channels.taskSpawn.hasSubscribers, false);
      });
    }
  });
});
