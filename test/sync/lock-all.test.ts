import "./with-await-graph.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lockAll } from "../../src/sync/lock-all.js";
import { Mutex } from "../../src/sync/mutex.js";
import { RWLock } from "../../src/sync/rwlock.js";
import { Semaphore } from "../../src/sync/semaphore.js";
import { currentTask } from "../../src/core/task.js";
import { collecting } from "../helpers.js";

describe("lockAll", () => {
  it("holds every lock while fn runs, as one scope, and releases them after", async () => {
    const a = new Mutex({ name: "a" });
    const s = new Semaphore(2, { name: "s" });
    const rw = new RWLock({ name: "rw" });
    const seen = await lockAll([rw, s, a], () => ({
      a: a.isLocked,
      s: s.available,
      rw: rw.isWriteLocked,
      scope: currentTask(),
      held: currentTask()?.held?.map((l) => l.target.name),
    }));
    assert.deepEqual([seen.a, seen.s, seen.rw], [true, 1, true]);
    assert.equal(seen.scope?.kind, "scope");
    assert.deepEqual(seen.held, ["a", "s", "rw"], "taken in creation order");
    assert.equal(a.isLocked || rw.isLocked, false);
    assert.equal(s.available, 2);
  });

  it("without fn returns a disposable LockSet", async () => {
    const a = new Mutex();
    const b = new Mutex();
    {
      using held = await lockAll([b, a]);
      assert.deepEqual(
        held.leases.map((l) => l.target),
        [a, b],
      );
      assert.equal(a.isLocked && b.isLocked, true);
    }
    assert.equal(a.isLocked || b.isLocked, false);
  });

  it("releases what it took when a later acquire fails", async () => {
    const a = new Mutex({ name: "first" });
    const b = new Mutex({ name: "second" });
    const held = await b.acquire();
    await assert.rejects(
      lockAll([a, b], async () => {}, { timeout: 5 }),
      /did not succeed within 5 ms/,
    );
    assert.equal(a.isLocked, false);
    held.release();
  });

  it("opposite orders at the same time never deadlock and report nothing", async () => {
    const a = new Mutex({ name: "la" });
    const b = new Mutex({ name: "lb" });
    const { found } = await collecting(async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => lockAll(i % 2 ? [a, b] : [b, a], () => Promise.resolve())));
    });
    assert.deepEqual(found, []);
  });

  it("rejects bad input: not an array, not a lock, a lock twice, a bad fn", async () => {
    const a = new Mutex({ name: "dup" });
    await assert.rejects(lockAll("x" as never), TypeError);
    await assert.rejects(lockAll([a, {} as never]), /locks\[1\]/);
    await assert.rejects(lockAll([a, a]), /appears twice/);
    await assert.rejects(lockAll([a], 5 as never), TypeError);
    await assert.rejects(lockAll([a], { signal: AbortSignal.abort() }), /already aborted/);
    assert.equal(a.isLocked, false);
  });
});
