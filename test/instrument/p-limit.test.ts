import "../sync/with-await-graph.js";
// p-limit instrumented at load: the user's own limiter, unchanged, reports a limited function
// that waits for its own limiter (p-limit's silent hang) under the variable's name, and behaves
// as p-limit alone does, side by side.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { configure } from "../../src/core/config.js";
import { DeadlockError } from "../../src/core/errors.js";
import { installInstrumentations } from "../../src/instrument/index.js";
import type { InstalledInstrumentations } from "../../src/instrument/index.js";

const DEADLOCK_RULES = new Set(["deadlock-reentrant", "deadlock-cycle", "pool-exhaustion", "lock-order-inversion", "database-deadlock"]);
import { barrier, collecting, deferred } from "../tasks/helpers.js";

type PLimitModule = typeof import("p-limit");

/** What a program sees of p-limit: start order, counts, results, errors, clearQueue, concurrency changes. */
async function transcript(m: PLimitModule): Promise<unknown[]> {
  const log: unknown[] = [];
  const limit = m.default(2);
  const gates = [deferred(), deferred(), deferred(), deferred()];
  const started: number[] = [];
  const calls = gates.map((g, i) =>
    limit(async (x: number) => {
      started.push(x);
      await g.promise;
      if (x === 2) throw new Error(`job ${x} failed`);
      return x * 10;
    }, i),
  );
  await Promise.resolve();
  await Promise.resolve();
  log.push(["counts while full", limit.activeCount, limit.pendingCount, limit.concurrency]);
  gates[1]!.resolve();
  gates[0]!.resolve();
  gates[2]!.resolve();
  gates[3]!.resolve();
  const settled = await Promise.allSettled(calls);
  log.push(["results", settled.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))]);
  log.push(["start order", started]);
  log.push(["counts after", limit.activeCount, limit.pendingCount]);
  log.push(["map", await limit.map([1, 2, 3], async (v, i) => v + i)]);
  // clearQueue without rejectOnClear: dropped calls never settle; with it, they reject
  const hold = deferred();
  const quiet = m.default(1);
  const running = quiet(() => hold.promise);
  let droppedSettled = false;
  void quiet(() => "dropped").finally(() => (droppedSettled = true));
  quiet.clearQueue();
  log.push(["after clear", quiet.pendingCount]);
  hold.resolve();
  await running;
  await quiet(() => undefined);
  log.push(["dropped settled", droppedSettled]);
  const loud = m.default({ concurrency: 1, rejectOnClear: true });
  const hold2 = deferred();
  const running2 = loud(() => hold2.promise);
  const rejected = loud(() => "dropped").catch((e: unknown) => [(e as Error).name, e instanceof Error]);
  loud.clearQueue();
  log.push(["rejectOnClear", await rejected]);
  hold2.resolve();
  await running2;
  // a larger concurrency starts the waiting calls at once
  const grow = m.default(1);
  const block = deferred();
  const g1 = grow(() => block.promise);
  const ran: string[] = [];
  const g2 = grow(async () => ran.push("second"));
  grow.concurrency = 2;
  await g2;
  log.push(["grown", ran, grow.concurrency]);
  block.resolve();
  await g1;
  // limitFunction
  const limited = m.limitFunction(async (x: number) => x + 1, { concurrency: 1 });
  log.push(["limitFunction", await Promise.all([limited(1), limited(2)])]);
  // p-limit's own argument errors
  for (const bad of [0, -1, 1.5, "2"]) {
    try {
      m.default(bad as number);
      log.push(["accepted", bad]);
    } catch (e) {
      log.push(["bad concurrency", bad, (e as Error).constructor.name, (e as Error).message]);
    }
  }
  return log;
}

describe("p-limit instrumented at load", () => {
  let m: PLimitModule;
  let installed: InstalledInstrumentations;
  before(async () => {
    installed = installInstrumentations({ libraries: ["p-limit"] });
    m = await import("p-limit");
    configure({ mode: "debug" });
  });
  after(() => {
    configure({ mode: "production" });
    installed.uninstall();
  });

  it("side by side with p-limit alone: the same results, order, counts, clearQueue and concurrency changes", async () => {
    const { result: instrumented, found } = await collecting(() => transcript(m));
    // a correct program: no deadlock of any kind is reported on it
    assert.deepEqual(
      found.filter((d) => DEADLOCK_RULES.has(d.rule)).map((d) => d.summary),
      [],
    );
    installed.uninstall();
    let plain: unknown[];
    try {
      plain = await transcript(m);
    } finally {
      installed = installInstrumentations({ libraries: ["p-limit"] });
    }
    assert.deepEqual(instrumented, plain);
    assert.deepEqual(instrumented[0], ["counts while full", 2, 2, 2]);
    assert.deepEqual(instrumented[1], ["results", [0, 10, "job 2 failed", 30]]);
  });

  it("a limited function that waits for its own pLimit(1): proven deadlock-reentrant on the user's limiter", async () => {
    const crawl = m.default(1);
    const { result, found } = await collecting(() => crawl(() => crawl(() => "child")).catch((e: unknown) => e));
    assert.ok(result instanceof DeadlockError, String(result));
    const d = found.find((x) => x.certainty === "proven");
    assert.ok(d);
    assert.match(d.summary, /crawl \(test\/instrument\/p-limit\.test\.ts:\d+\)/);
    assert.equal(crawl.activeCount, 0);
  });

  it("every slot of pLimit(2) held by calls that wait for the same limiter: pool-exhaustion", async () => {
    const fetchLimit = m.default(2);
    const both = barrier(2);
    const { result, found } = await collecting(() =>
      Promise.allSettled(
        [0, 1].map((i) =>
          fetchLimit(async () => {
            await both();
            return fetchLimit(() => i);
          }),
        ),
      ),
    );
    assert.equal(result.filter((r) => r.status === "rejected").length, 1);
    const d = found.find((x) => x.rule === "pool-exhaustion" && x.certainty === "proven");
    assert.ok(d, found.map((x) => `${x.certainty} ${x.rule}`).join(", "));
    assert.match(d.summary, /fetchLimit \(test\/instrument\/p-limit\.test\.ts:\d+\)/);
  });

  it("correct use is silent: many calls through a small limit, map, nested calls to another limiter", async () => {
    const outer = m.default(2);
    const inner = m.default(1);
    const { result, found } = await collecting(async () => {
      const a = await Promise.all(Array.from({ length: 10 }, (_, i) => outer(async () => inner(async () => i * 2))));
      const b = await outer.map([1, 2, 3], async (v) => v * v);
      return [a, b];
    });
    assert.deepEqual(result, [
      [0, 2, 4, 6, 8, 10, 12, 14, 16, 18],
      [1, 4, 9],
    ]);
    assert.deepEqual(
      found.map((x) => x.rule),
      [],
    );
  });

  it("a job that enqueues children without awaiting them runs to the end (p-limit's crawler)", async () => {
    const crawler = m.default(1);
    const seen: number[] = [];
    const done = deferred();
    const visit = (n: number): Promise<void> =>
      crawler(async () => {
        seen.push(n);
        if (n < 3) void visit(n + 1);
        else done.resolve();
      });
    const { found } = await collecting(async () => {
      await visit(1);
      await done.promise;
    });
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(
      found.map((x) => x.rule),
      [],
    );
  });
});
