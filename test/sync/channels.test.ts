// The lock channels: APM tools can follow waits, grants and releases without wrapping anything.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { channelNames } from "../../src/core/channels.js";
import { Mutex } from "../../src/sync/mutex.js";
import { deferred } from "../helpers.js";

describe("lock channels", () => {
  it("publish wait, acquire (with waitedMs) and release (with heldMs)", async () => {
    const m = new Mutex({ name: "observed" });
    const events: string[] = [];
    const on = (kind: string) => (msg: unknown) => {
      const e = msg as { lock: Mutex; waitedMs?: number; heldMs?: number };
      if (e.lock !== m) return;
      events.push(kind);
      if (kind === "acquire") assert.equal(typeof e.waitedMs, "number");
      if (kind === "release") assert.equal(typeof e.heldMs, "number");
    };
    const subs = [
      [channelNames.lockWait, on("wait")],
      [channelNames.lockAcquire, on("acquire")],
      [channelNames.lockRelease, on("release")],
    ] as const;
    for (const [name, fn] of subs) diagnosticsChannel.subscribe(name, fn);
    try {
      const gate = deferred();
      const first = m.runExclusive(() => gate.promise);
      const second = m.runExclusive(async () => {});
      gate.resolve();
      await Promise.all([first, second]);
    } finally {
      for (const [name, fn] of subs) diagnosticsChannel.unsubscribe(name, fn);
    }
    assert.deepEqual(events, ["acquire", "wait", "release", "acquire", "release"]);
  });
});
