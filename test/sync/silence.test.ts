import "./with-await-graph.js";
// False positives are the enemy: correct code under contention produces no report at all.
import { describe, it, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { Mutex } from "../../src/sync/mutex.js";
import { Semaphore } from "../../src/sync/semaphore.js";
import { RWLock } from "../../src/sync/rwlock.js";
import { Pool } from "../../src/sync/pool.js";
import { resetLockOrder } from "../../src/sync/lock-order.js";
import { withTimeout } from "../../src/tasks/with-timeout.js";
import { spawn } from "../../src/tasks/default-tracker.js";
import { TaskGroup } from "../../src/tasks/task-group.js";
import pLimit from "../../src/compat/p-limit.js";
import { collecting, deferred, tick } from "../helpers.js";

describe("detection stays silent on correct code", () => {
  beforeEach(() => resetLockOrder());

  it("many tasks nesting three locks in one order, under contention", async () => {
    const [a, b, c] = [new Mutex({ name: "a" }), new Mutex({ name: "b" }), new Mutex({ name: "c" })];
    const { found } = await collecting(async () => {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          spawn(
            () =>
              a.runExclusive(async () => {
                await tick();
                await b.runExclusive(() => (i % 2 ? c.runExclusive(tick) : tick()));
              }),
            { name: `worker-${i}` },
          ),
        ),
      );
    });
    assert.deepEqual(found, []);
  });

  it("nested acquires of a semaphore that always has a permit left for them", async () => {
    const sem = new Semaphore(3, { name: "three" });
    const { found } = await collecting(async () => {
      await Promise.all(
        [1, 2].map(() =>
          sem.runExclusive(async () => {
            await tick();
            await sem.runExclusive(tick);
          }),
        ),
      );
    });
    assert.deepEqual(found, []);
  });

  it("a withTimeout inside a critical section, and a critical section inside a withTimeout", async () => {
    const m = new Mutex({ name: "t" });
    const other = new Mutex({ name: "u" });
    const { found } = await collecting(async () => {
      await m.runExclusive(() => withTimeout(() => other.runExclusive(tick), 1_000));
      await withTimeout(() => m.runExclusive(() => other.runExclusive(tick)), 1_000);
    });
    assert.deepEqual(found, []);
  });

  it("many nested readers while no writer queues, and writers that wait their turn", async () => {
    const rw = new RWLock({ name: "cache" });
    const { found } = await collecting(async () => {
      await Promise.all([...Array.from({ length: 10 }, () => rw.read(() => rw.read(tick)))]);
      await Promise.all([rw.write(tick), rw.read(tick), rw.write(tick), rw.read(tick)]);
    });
    assert.deepEqual(found, []);
  });

  it("holders of one pool using another pool", async () => {
    const users = new Pool({ name: "users-db", max: 2, create: () => ({}) });
    const orders = new Pool({ name: "orders-db", max: 1, create: () => ({}) });
    const { found } = await collecting(async () => {
      await Promise.all(Array.from({ length: 6 }, () => users.use(() => orders.use(tick))));
    });
    assert.deepEqual(found, []);
  });

  it("a timer scheduled inside a critical section that takes the lock after the section ended", async () => {
    const m = new Mutex({ name: "later" });
    const ran = deferred<string>();
    const { found } = await collecting(async () => {
      await m.runExclusive(() => {
        setTimeout(() => void m.runExclusive(async () => ran.resolve("ran")), 0);
      });
      assert.equal(await ran.promise, "ran");
    });
    assert.deepEqual(found, []);
  });

  it("a task group whose tasks share a lock their parent does not hold", async () => {
    const m = new Mutex({ name: "group-lock" });
    const { found } = await collecting(async () => {
      await TaskGroup.run(async (group) => {
        for (let i = 0; i < 5; i++) group.spawn(() => m.runExclusive(tick), { name: `g${i}` });
      });
    });
    assert.deepEqual(found, []);
  });

  it("a p-limit drop-in whose functions use a second limiter", async () => {
    const outer = pLimit(2);
    const inner = pLimit(1);
    const { found } = await collecting(async () => {
      await outer.map([1, 2, 3, 4], (x) =>
        inner(async () => {
          await tick();
          return x;
        }),
      );
    });
    assert.deepEqual(found, []);
  });
});
