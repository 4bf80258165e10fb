import "./with-await-graph.js";
import { describe, it, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { Mutex } from "../../src/sync/mutex.js";
import { Semaphore } from "../../src/sync/semaphore.js";
import { RWLock } from "../../src/sync/rwlock.js";
import { Pool } from "../../src/sync/pool.js";
import { lockAll } from "../../src/sync/lock-all.js";
import { resetLockOrder } from "../../src/sync/lock-order.js";
import { DeadlockError, TimeoutError } from "../../src/core/errors.js";
import { configure } from "../../src/core/config.js";
import { addCollector } from "../../src/core/diagnosis.js";
import { spawn } from "../../src/tasks/default-tracker.js";
import { collecting, deferred, tick } from "../helpers.js";

function deadlock(kind: string) {
  return (e: unknown) => e instanceof DeadlockError && e.kind === kind;
}

describe("deadlock detection", () => {
  beforeEach(() => resetLockOrder());

  describe("re-entrant acquire", () => {
    it("rejects a nested runExclusive on the same mutex at once, naming the lock", async () => {
      const m = new Mutex({ name: "accounts" });
      await collecting(async (found) => {
        const err = await m.runExclusive(() => m.runExclusive(async () => {})).catch((e: unknown) => e);
        assert.ok(deadlock("reentrant")(err));
        assert.equal((err as DeadlockError).diagnosis.rule, "deadlock-reentrant");
        assert.equal((err as DeadlockError).diagnosis.certainty, "proven");
        assert.match((err as Error).message, /acquires mutex "accounts" again while it holds it/);
        assert.equal(found.length, 1, "reported as well as thrown");
      });
      assert.equal(m.isLocked, false);
    });

    it("rejects the seed's nested semaphore (1 permit), also through a nested scope of another lock", async () => {
      const sem = new Semaphore(1, { name: "sem" });
      const other = new Mutex({ name: "other" });
      await collecting(async () => {
        await assert.rejects(
          sem.runExclusive(() => other.runExclusive(() => sem.runExclusive(() => 1))),
          deadlock("reentrant"),
        );
      });
    });

    it("rejects an RWLock upgrade (write while holding read)", async () => {
      const rw = new RWLock({ name: "rw" });
      await collecting(async () => {
        await assert.rejects(
          rw.read(() => rw.write(() => 1)),
          deadlock("reentrant"),
        );
        await assert.rejects(
          rw.write(() => rw.read(() => 1)),
          deadlock("reentrant"),
        );
      });
    });

    it("stays silent for a nested read with no writer queued, and for nested semaphore permits that are free", async () => {
      const rw = new RWLock();
      const sem = new Semaphore(2);
      const { found } = await collecting(async () => {
        assert.equal(await rw.read(() => rw.read(() => 5)), 5);
        assert.equal(await sem.runExclusive(() => sem.runExclusive(() => 6)), 6);
      });
      assert.deepEqual(found, []);
    });

    it("stays silent for bare acquires of one task's concurrent code (no certain identity)", async () => {
      const m = new Mutex({ name: "shared" });
      const { found } = await collecting(async () => {
        await spawn(async () => {
          await Promise.all(
            [1, 2, 3].map(async () => {
              const lease = await m.acquire();
              await tick();
              lease.release();
            }),
          );
        });
      });
      assert.deepEqual(found, []);
    });

    it("stays silent when a timer scheduled inside the section takes the lock while the section still holds it", async () => {
      const m = new Mutex({ name: "flush" });
      const fired = deferred();
      const flushed = deferred<string>();
      const { found } = await collecting(async () => {
        await m.runExclusive(async () => {
          setTimeout(() => {
            void m.runExclusive(async () => flushed.resolve("flushed"));
            fired.resolve();
          }, 1);
          await fired.promise; // the timer's acquire waits while this section still holds the lock
        });
        assert.equal(await flushed.promise, "flushed");
      });
      assert.deepEqual(found, []);
    });

    it("still rejects a nested acquire made synchronously inside a section started in a timer callback", async () => {
      const m = new Mutex({ name: "in-timer" });
      const result = deferred<unknown>();
      await collecting(async () => {
        setTimeout(() => {
          m.runExclusive(() => m.runExclusive(() => 1)).then(result.resolve, result.resolve);
        }, 1);
        const err = await result.promise;
        assert.ok(deadlock("reentrant")(err));
      });
    });

    it("stays silent when a spawned child task waits for what its parent scope holds", async () => {
      const m = new Mutex({ name: "parent-held" });
      const { found } = await collecting(async () => {
        let child: PromiseLike<unknown> | undefined;
        await m.runExclusive(() => {
          child = spawn(() => m.runExclusive(async () => "child ran"));
        });
        assert.equal(await child, "child ran");
      });
      assert.deepEqual(found, []);
    });
  });

  describe("wait-for cycles", () => {
    it("rejects the acquire that closes a two-lock cycle, with the cycle in forward order", async () => {
      const a = new Mutex({ name: "a" });
      const b = new Mutex({ name: "b" });
      const both = deferred();
      let n = 0;
      const ready = () => (++n === 2 ? both.resolve() : both.promise);
      const { found } = await collecting(async () => {
        const r = await Promise.allSettled([
          spawn(
            () =>
              a.runExclusive(async () => {
                await ready();
                await both.promise;
                return b.runExclusive(() => "one");
              }),
            { name: "one" },
          ),
          spawn(
            () =>
              b.runExclusive(async () => {
                await ready();
                await both.promise;
                await tick();
                return a.runExclusive(() => "two");
              }),
            { name: "two" },
          ),
        ]);
        assert.equal(r[0].status, "fulfilled");
        assert.equal(r[1].status, "rejected");
        const err = r[1].reason as DeadlockError;
        assert.ok(deadlock("cycle")(err));
        assert.match(err.message, /"two" and "one" wait for each other/);
        // the holders' own awaits sit between the hops ("… awaits here"): the hops in forward order
        const steps = err.diagnosis.steps!.map((s) => s.text).filter((t) => !t.endsWith("awaits here"));
        assert.deepEqual(steps.slice(0, 3), ['task "two" waits for mutex "a"', 'mutex "a" is held by task "one"', 'task "one" waits for mutex "b"']);
      });
      assert.ok(found.some((d) => d.rule === "deadlock-cycle"));
      assert.ok(!found.some((d) => d.rule === "lock-order-inversion"), "one bug, one report: the proven cycle is not also a potential inversion");
    });

    it("does not prove a cycle that another waiter's time limit will break: the timeout names the knot", async () => {
      const a = new Mutex({ name: "ta" });
      const b = new Mutex({ name: "tb" });
      const start = deferred();
      const { found } = await collecting(async () => {
        const r = await Promise.allSettled([
          a.runExclusive(async () => {
            await start.promise;
            return b.runExclusive(() => "one", { timeout: 20 });
          }),
          b.runExclusive(async () => {
            await start.promise;
            await tick();
            return a.runExclusive(() => "two");
          }),
          (async () => {
            await tick();
            start.resolve();
          })(),
        ]);
        assert.equal(r[0].status, "rejected");
        const err = r[0].reason as TimeoutError;
        assert.ok(err instanceof TimeoutError, "the time limit broke it");
        assert.match(err.message, /looks like a wait-for cycle|held by/);
        assert.deepEqual(r[1], { status: "fulfilled", value: "two" });
      });
      assert.equal(found.filter((d) => d.rule === "deadlock-cycle" && d.certainty === "proven").length, 0, "never proven: the limit ends it");
    });

    it("does not prove a cycle whose every acquire has a time limit: each limit names what it waited for", async () => {
      const a = new Mutex({ name: "la" });
      const b = new Mutex({ name: "lb" });
      const start = deferred();
      const { found } = await collecting(async () => {
        const r = await Promise.allSettled([
          a.runExclusive(async () => {
            await start.promise;
            return b.runExclusive(() => "one", { timeout: 30 });
          }),
          b.runExclusive(async () => {
            await start.promise;
            await tick();
            return a.runExclusive(() => "two", { timeout: 30 });
          }),
          (async () => {
            await tick();
            start.resolve();
          })(),
        ]);
        const rejected = r.filter((x): x is PromiseRejectedResult => x.status === "rejected");
        assert.ok(rejected.length >= 1);
        for (const x of rejected) assert.ok(x.reason instanceof TimeoutError);
      });
      assert.deepEqual(
        found.filter((d) => d.certainty === "proven"),
        [],
      );
    });

    it("detects a three-lock cycle across a mutex, a semaphore and an rwlock", async () => {
      const m = new Mutex({ name: "m" });
      const s = new Semaphore(1, { name: "s" });
      const rw = new RWLock({ name: "rw" });
      const start = deferred();
      const { found } = await collecting(async () => {
        const r = await Promise.allSettled([
          m.runExclusive(async () => {
            await start.promise;
            return s.runExclusive(() => 1);
          }),
          s.runExclusive(async () => {
            await start.promise;
            return rw.write(() => 2);
          }),
          rw.read(async () => {
            await start.promise;
            await tick();
            return m.runExclusive(() => 3);
          }),
          (async () => {
            await tick();
            start.resolve();
          })(),
        ]);
        assert.equal(r.filter((x) => x.status === "rejected").length, 1);
      });
      assert.equal(found.filter((d) => d.rule === "deadlock-cycle").length, 1);
    });

    it("stays silent for locks taken in one order (lockAll) under contention", async () => {
      const a = new Mutex({ name: "la" });
      const b = new Mutex({ name: "lb" });
      const { found } = await collecting(async () => {
        await Promise.all([
          lockAll([a, b], async () => {
            await tick();
          }),
          lockAll([b, a], async () => {
            await tick();
          }),
          a.runExclusive(() => b.runExclusive(() => tick())),
        ]);
      });
      assert.deepEqual(found, []);
      assert.equal(a.isLocked || b.isLocked, false);
    });
  });

  describe("pool exhaustion", () => {
    it("rejects when every permit holder waits on the same pool", async () => {
      const pool = new Pool({ name: "db", max: 2, create: () => ({}) });
      const both = deferred();
      let n = 0;
      const { found } = await collecting(async () => {
        const r = await Promise.allSettled(
          [1, 2].map((i) =>
            pool.use(async () => {
              if (++n === 2) both.resolve();
              await both.promise;
              return pool.use(async () => i);
            }),
          ),
        );
        assert.deepEqual(r.map((x) => x.status).sort(), ["fulfilled", "rejected"]);
        const err: unknown = (r.find((x) => x.status === "rejected") as PromiseRejectedResult).reason;
        assert.ok(deadlock("pool-exhaustion")(err));
      });
      assert.equal(found.filter((d) => d.rule === "pool-exhaustion").length, 1);
      assert.equal(pool.inUse, 0);
    });

    it("stays silent while a holder can still give its permit back", async () => {
      const sem = new Semaphore(2, { name: "two" });
      const gate = deferred();
      const { found } = await collecting(async () => {
        const free = sem.runExclusive(() => gate.promise);
        const nested = sem.runExclusive(() => sem.runExclusive(() => "inner"));
        await tick();
        gate.resolve();
        assert.equal(await nested, "inner");
        await free;
      });
      assert.deepEqual(found, []);
    });
  });

  describe("lock-order inversion", () => {
    it("reports a potential deadlock the first time two classes are taken in both orders, once per pair", async () => {
      const a = new Mutex({ name: "accounts" });
      const b = new Mutex({ name: "audit" });
      const { found } = await collecting(async () => {
        await a.runExclusive(() => b.runExclusive(() => {}));
        await b.runExclusive(() => a.runExclusive(() => {}));
        await b.runExclusive(() => a.runExclusive(() => {}));
      });
      const inv = found.filter((d) => d.rule === "lock-order-inversion");
      assert.equal(inv.length, 1);
      assert.equal(inv[0]!.certainty, "potential");
      assert.match(inv[0]!.fix, /take mutex "audit" before mutex "accounts"|take mutex "accounts" before mutex "audit"/);
    });

    it('throws with lockOrder: "throw" and stays quiet with "off"', async () => {
      const a = new Mutex({ name: "x1" });
      const b = new Mutex({ name: "x2" });
      try {
        configure({ lockOrder: "throw" });
        await collecting(async () => {
          await a.runExclusive(() => b.runExclusive(() => {}));
          await assert.rejects(
            b.runExclusive(() => a.runExclusive(() => {})),
            deadlock("lock-order"),
          );
        });
        resetLockOrder();
        configure({ lockOrder: "off" });
        const { found } = await collecting(async () => {
          await a.runExclusive(() => b.runExclusive(() => {}));
          await b.runExclusive(() => a.runExclusive(() => {}));
        });
        assert.deepEqual(found, []);
      } finally {
        configure({ lockOrder: "report" });
      }
      assert.equal(a.isLocked || b.isLocked, false);
    });

    it("does not count a lock taken by a timer callback scheduled inside a section as nested in it", async () => {
      const a = new Mutex({ name: "section" });
      const b = new Mutex({ name: "timer-lock" });
      const { found } = await collecting(async () => {
        const done = deferred();
        await a.runExclusive(async () => {
          setTimeout(() => void b.runExclusive(async () => done.resolve()), 1);
          await done.promise;
        });
        await b.runExclusive(() => a.runExclusive(() => {}));
      });
      assert.deepEqual(found, []);
    });

    it("stays silent for a consistent order and for two locks of one class", async () => {
      const accounts = [new Mutex({ name: "account" }), new Mutex({ name: "account" })];
      const c = new Mutex({ name: "c" });
      const { found } = await collecting(async () => {
        await c.runExclusive(() => accounts[0]!.runExclusive(() => {}));
        await c.runExclusive(() => accounts[1]!.runExclusive(() => {}));
        await accounts[0]!.runExclusive(() => accounts[1]!.runExclusive(() => {}));
        await accounts[1]!.runExclusive(() => accounts[0]!.runExclusive(() => {}));
      });
      assert.deepEqual(found, []);
    });
  });

  describe("long waits", () => {
    it("reports a wait past the threshold with the holder, then retracts it when the wait ends", async () => {
      const m = new Mutex({ name: "slow-lock" });
      const gate = deferred();
      const reported = deferred();
      configure({ longWaitMs: 10 });
      try {
        const { found } = await collecting(async () => {
          const held = spawn(() => m.runExclusive(() => gate.promise), { name: "slow-holder" });
          const waiter = spawn(() => m.runExclusive(async () => {}), { name: "patient" });
          const stop = addCollector(() => reported.resolve());
          // the watchdog's timer is unref'd (it never keeps a program alive): this test does
          const keepAlive = setTimeout(() => reported.reject(new Error("no long-wait report")), 5_000);
          await reported.promise;
          clearTimeout(keepAlive);
          stop();
          gate.resolve();
          await Promise.all([held, waiter]);
        });
        assert.equal(found.length, 2);
        assert.equal(found[0]!.rule, "long-wait");
        assert.match(found[0]!.summary, /task "patient" has waited \d+ ms for mutex "slow-lock", held by "slow-holder"/);
        assert.equal(found[1]!.retracts, found[0]!.id);
      } finally {
        configure({ longWaitMs: 10_000 });
      }
    });

    it("says nothing about waits shorter than the threshold", async () => {
      const m = new Mutex();
      const { found } = await collecting(async () => {
        await Promise.all([1, 2, 3].map(() => m.runExclusive(() => tick())));
      });
      assert.deepEqual(found, []);
    });
  });
});
