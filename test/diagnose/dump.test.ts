// dump(): the live state as text or JSON, to stderr, a file, or only returned; the wait-for
// graph is built from the `locks` section sync/ registers (a stand-in registers one here).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerSnapshotSection } from "../../src/core/registry.js";
import type { LockSnapshot } from "../../src/core/registry.js";
import { dump, dumpState } from "../../src/diagnose/dump.js";
import { track } from "../../src/diagnose/resources.js";
import { trackPromises } from "../../src/diagnose/promise-tracking.js";
import { setStuckThreshold } from "../../src/diagnose/stuck-awaits.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { deferred } from "../tasks/helpers.js";

let locks: LockSnapshot[] = [];
registerSnapshotSection("locks", () => locks);

describe("dump()", () => {
  it("shows the task tree, locks with holders and waiters, the wait-for graph and open resources", async () => {
    const gate = deferred();
    const tracker = new TaskTracker({ name: "t", captureSites: true });
    const parent = tracker.spawn(
      async () => {
        await tracker.spawn(() => gate.promise, { name: "child" });
      },
      { name: "parent" },
    );
    const session = track({ async close() {} }, { name: "db" });
    locks = [
      {
        id: 1,
        name: "accounts",
        kind: "mutex",
        site: undefined,
        capacity: 1,
        holders: [{ taskId: parent.id, taskName: undefined, site: undefined, forMs: 5, permits: 1 }],
        waiters: [{ taskId: 999, taskName: "transfer", site: undefined, forMs: 3, permits: 1 }],
      },
    ];
    const text = dump({ to: "none" });
    assert.match(text, /tasks \(2 pending\):\n {2}- "parent" #\d+ pending \d+ ms, spawned at test\/diagnose\/dump\.test\.ts:\d+:\d+\n {4}- "child"/);
    assert.match(text, /mutex "accounts" \(capacity 1\)/);
    assert.match(text, /held by "<unknown task>" for 5 ms/);
    assert.match(text, /waited on by "transfer" for 3 ms/);
    assert.match(text, /"transfer" -> \[mutex "accounts"\] -> "parent"/, "the holder's name comes from the task list");
    assert.match(text, /open resources \(1\):\n {2}- "db" open \d+ ms/);
    const state = JSON.parse(dump({ to: "none", format: "json" })) as ReturnType<typeof dumpState>;
    assert.equal(state.tasks.length, 2);
    assert.deepEqual(state.waitFor, [{ from: "transfer", lock: 'mutex "accounts"', to: "parent" }]);
    gate.resolve();
    await parent;
    await session.close();
    locks = [];
  });

  it("says so when nothing is running, and writes to a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-dump-"));
    try {
      const file = join(dir, "state.txt");
      const text = dump({ to: file });
      assert.equal(readFileSync(file, "utf8"), text);
      assert.match(text, /tasks \(0 pending\):\n {2}\(none\)/);
      assert.match(text, /wait-for graph \(0 edge\(s\)\):\n {2}\(no task waits on another\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("renders the live state as one HTML page, with the findings it is given", async () => {
    const { Mutex } = await import("../../src/sync/mutex.js");
    const lock = new Mutex({ name: "orders-cache" });
    const lease = await lock.acquire();
    try {
      const html = dump({ format: "html", to: "none", diagnoses: [] });
      assert.match(html, /^<!doctype html>/i);
      assert.match(html, /orders-cache/);
    } finally {
      lease.release();
    }
  });

  it("rejects bad options", () => {
    assert.throws(() => dump(null as never), { name: "TypeError", message: /"options"/ });
    assert.throws(() => dump({ format: "xml" as never }), { name: "TypeError", message: /"options\.format".*Received type string \("xml"\)/ });
    assert.throws(() => dump({ format: "html", diagnoses: "none" as never }), { name: "TypeError", message: /"options\.diagnoses"/ });
    assert.throws(() => dump({ to: "" }), { name: "TypeError", message: /"options\.to"/ });
    assert.throws(() => dump({ to: 1 as never }), { name: "TypeError", message: /"options\.to".*Received type number/ });
  });

  it("adds the stuck awaits (the async jstack) when promise tracking is on; none when nothing is stuck", async () => {
    const stop = trackPromises();
    const gate = deferred();
    setStuckThreshold(0);
    try {
      async function awaitsReply(): Promise<void> {
        await gate.promise;
      }
      const running = awaitsReply();
      const text = dump({ to: "none" });
      assert.match(
        text,
        /stuck awaits \(1\):\n {2}OBSERVED await that can never settle \[never-settled\]\n {4}awaitsReply\(\) has been awaiting a promise for \d+ ms; seen in a state dump/,
      );
      const json = JSON.parse(dump({ to: "none", format: "json" })) as { stuckAwaits: { rule: string }[] };
      assert.deepEqual(
        json.stuckAwaits.map((d) => d.rule),
        ["never-settled"],
      );
      gate.resolve();
      await running;
      assert.doesNotMatch(dump({ to: "none" }), /stuck awaits/);
    } finally {
      setStuckThreshold(1000);
      stop();
    }
  });
});
