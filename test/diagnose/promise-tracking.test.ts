// Promise tracking: an await on a promise still pending is recorded with the program's own
// await site; awaits on settled promises, and chaining inside libraries, are not.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isTrackingPromises, pendingAwaits, trackPromises } from "../../src/diagnose/promise-tracking.js";
import { neverSettledDiagnoses } from "../../src/diagnose/stuck-awaits.js";

async function waitsForever(gate: Promise<void>): Promise<void> {
  await gate;
}

describe("promise tracking", () => {
  it("records an await on a pending promise at the line of the await, until it settles", async () => {
    const stop = trackPromises();
    try {
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const running = waitsForever(gate);
      const found = pendingAwaits().filter((a) => a.site?.functionName === "waitsForever");
      assert.equal(found.length, 1);
      assert.match(found[0]!.site!.file, /promise-tracking\.test\.ts$/);
      assert.equal(found[0]!.site!.line, 9);
      const d = neverSettledDiagnoses().find((x) => x.site?.functionName === "waitsForever");
      assert.equal(d?.certainty, "proven");
      assert.match(d?.summary ?? "", /waitsForever\(\) awaits a promise that can never settle/);
      open();
      await running;
      assert.equal(pendingAwaits().filter((a) => a.site?.functionName === "waitsForever").length, 0);
    } finally {
      stop();
    }
  });

  it("stays silent for awaits on promises that had already settled, however many", async () => {
    const stop = trackPromises();
    try {
      const before = pendingAwaits().length;
      let sum = 0;
      const leaf = async (i: number) => i;
      for (let i = 0; i < 1000; i++) sum += await leaf(i);
      for (let i = 0; i < 100; i++) sum += await Promise.resolve(i);
      assert.equal(sum, 499500 + 4950);
      assert.equal(pendingAwaits().length, before);
    } finally {
      stop();
    }
  });

  it("stays silent for an await on a promise that settled long before", async () => {
    const stop = trackPromises();
    try {
      const ready = Promise.resolve("ready");
      await new Promise((r) => setImmediate(r)); // other promises settle meanwhile
      async function usesReady(): Promise<string> {
        return await ready;
      }
      assert.equal(await usesReady(), "ready");
      assert.equal(pendingAwaits().filter((a) => a.site?.functionName === "usesReady").length, 0);
    } finally {
      stop();
    }
  });

  it("is on only between trackPromises() and stop()", () => {
    assert.equal(isTrackingPromises(), false);
    const stop = trackPromises();
    assert.equal(isTrackingPromises(), true);
    assert.equal(trackPromises(), stop, "a second call returns the same stop function");
    stop();
    assert.equal(isTrackingPromises(), false);
  });
});
