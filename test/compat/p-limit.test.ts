import "../sync/with-await-graph.js";
// The compat layer behaves as p-limit 7 does: each scenario runs against both.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import peerLimit from "p-limit";
import oursLimit, { limitFunction } from "../../src/compat/p-limit.js";
import { DeadlockError } from "../../src/core/errors.js";
import { collecting, deferred, tick } from "../helpers.js";

const libs: Array<[string, typeof oursLimit]> = [
  ["p-limit", peerLimit],
  ["compat", oursLimit],
];

for (const [label, pLimit] of libs) {
  describe(`${label}: p-limit behaviour`, () => {
    it("never runs more than the concurrency; counts active and pending", async () => {
      const limit = pLimit(2);
      let running = 0;
      let peak = 0;
      const gate = deferred();
      const all = [1, 2, 3, 4, 5].map((i) =>
        limit(async (x: number) => {
          running++;
          peak = Math.max(peak, running);
          await gate.promise;
          running--;
          return x * 2;
        }, i),
      );
      await tick();
      assert.equal(limit.activeCount, 2);
      assert.equal(limit.pendingCount, 3);
      gate.resolve();
      assert.deepEqual(await Promise.all(all), [2, 4, 6, 8, 10]);
      assert.equal(peak, 2);
      assert.equal(limit.activeCount, 0);
    });

    it("passes rejections through and keeps going", async () => {
      const limit = pLimit(1);
      await assert.rejects(
        limit(() => {
          throw new Error("sync throw");
        }),
        /sync throw/,
      );
      assert.equal(await limit(async () => "after"), "after");
    });

    it("clearQueue drops waiting calls; concurrency can be raised", async () => {
      const limit = pLimit(1);
      const gate = deferred();
      const first = limit(() => gate.promise);
      void limit(async () => "dropped");
      await tick();
      assert.equal(limit.pendingCount, 1);
      limit.clearQueue();
      assert.equal(limit.pendingCount, 0);
      gate.resolve();
      await first;
      assert.equal(limit.concurrency, 1);
      limit.concurrency = 3;
      assert.equal(limit.concurrency, 3);
    });

    it("rejectOnClear rejects the dropped calls with an AbortError", async () => {
      const limit = pLimit({ concurrency: 1, rejectOnClear: true });
      const gate = deferred();
      const first = limit(() => gate.promise);
      const dropped = limit(async () => "x");
      await tick();
      limit.clearQueue();
      await assert.rejects(dropped, (e: unknown) => (e as Error).name === "AbortError");
      gate.resolve();
      await first;
    });

    it("map runs every element under the limit", async () => {
      const limit = pLimit(2);
      assert.deepEqual(await limit.map([1, 2, 3], async (v, i) => v + i), [1, 3, 5]);
    });

    it("rejects a bad concurrency with a TypeError", () => {
      for (const bad of [0, -1, 1.5, "2"]) assert.throws(() => pLimit(bad as number), TypeError, String(bad));
    });
  });
}

describe("compat p-limit: what p-limit would hang on", () => {
  it("a limited function that calls its own limit with every slot taken rejects", async () => {
    const limit = oursLimit(1);
    await collecting(async () => {
      await assert.rejects(
        limit(() => limit(async () => 1)),
        (e: unknown) => e instanceof DeadlockError,
      );
    });
  });

  it("limitFunction limits a function", async () => {
    const f = limitFunction(async (x: number) => x + 1, { concurrency: 1 });
    assert.deepEqual(await Promise.all([f(1), f(2)]), [2, 3]);
  });
});
