import "./with-await-graph.js";
// Property-based tests over random schedules of many tasks and locks.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import fc from "fast-check";
import { Mutex } from "../../src/sync/mutex.js";
import { Semaphore } from "../../src/sync/semaphore.js";
import { DeadlockError } from "../../src/core/errors.js";
import { channelNames } from "../../src/core/channels.js";
import { runInTask, TaskRecord } from "../../src/core/task.js";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { collecting, deferred } from "../helpers.js";

const yieldTimes = async (n: number) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

/**
 * A two-phase schedule: every task takes its first lock, all meet at a barrier, then each
 * (after a few microtask yields) asks for its second lock while holding the first. Whether
 * that deadlocks is known in advance: simulate "a task whose second lock has a free permit
 * finishes and gives both back" until nothing changes.
 */
interface Schedule {
  capacities: number[];
  tasks: Array<{ first: number; second: number; yields: number }>;
}

const scheduleArb: fc.Arbitrary<Schedule> = fc
  .record({
    capacities: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 2, maxLength: 5 }),
    wants: fc.array(fc.record({ first: fc.nat(), second: fc.nat(), yields: fc.integer({ min: 0, max: 3 }) }), { minLength: 2, maxLength: 7 }),
  })
  .map(({ capacities, wants }) => {
    const used = capacities.map(() => 0);
    const tasks: Schedule["tasks"] = [];
    for (const w of wants) {
      // the first lock must have a free permit, or the barrier would never be reached
      const free = capacities.map((c, i) => i).filter((i) => used[i]! < capacities[i]!);
      if (free.length === 0) break;
      const first = free[w.first % free.length]!;
      used[first]!++;
      tasks.push({ first, second: w.second % capacities.length, yields: w.yields });
    }
    return { capacities, tasks };
  });

function deadlocks(s: Schedule): boolean {
  const free = s.capacities.slice();
  for (const t of s.tasks) free[t.first]!--;
  const done = s.tasks.map(() => false);
  for (let changed = true; changed;) {
    changed = false;
    s.tasks.forEach((t, i) => {
      if (done[i] || free[t.second]! < 1) return;
      done[i] = true;
      changed = true;
      free[t.first]!++;
    });
  }
  return done.includes(false);
}

async function run(s: Schedule): Promise<{ outcomes: Array<"done" | DeadlockError>; found: Diagnosis[] }> {
  const locks = s.capacities.map((c, i) => (c === 1 && i % 2 === 0 ? new Mutex({ name: `m${i}` }) : new Semaphore(c, { name: `s${i}` })));
  const barrier = deferred();
  let arrived = 0;
  const { result, found } = await collecting(async () =>
    Promise.all(
      s.tasks.map(async (t) => {
        try {
          await locks[t.first]!.runExclusive(async () => {
            if (++arrived === s.tasks.length) barrier.resolve();
            await barrier.promise;
            await yieldTimes(t.yields);
            await locks[t.second]!.runExclusive(() => yieldTimes(1));
          });
          return "done" as const;
        } catch (err) {
          if (err instanceof DeadlockError) return err;
          throw err;
        }
      }),
    ),
  );
  return { outcomes: result, found };
}

describe("properties", () => {
  it("no DeadlockError unless a deadlock truly exists; every true one is detected; every task ends", { timeout: 60_000 }, async () => {
    const seen = [0, 0];
    await fc.assert(
      fc.asyncProperty(scheduleArb, async (s) => {
        fc.pre(s.tasks.length >= 2);
        // run() resolving at all proves no task was left hanging
        const { outcomes, found } = await run(s);
        seen[deadlocks(s) ? 1 : 0]! += 1;
        const errors = outcomes.filter((o) => o !== "done");
        const lockOrder = found.filter((d) => d.rule === "lock-order-inversion");
        if (deadlocks(s)) {
          assert.ok(errors.length >= 1, "a true deadlock must be rejected");
          for (const e of errors) assert.ok(["reentrant", "cycle", "pool-exhaustion"].includes(e.kind));
        } else {
          assert.deepEqual(errors, [], "no deadlock: no DeadlockError");
        }
        assert.equal(found.length - lockOrder.length, errors.length, "each rejection is reported once");
      }),
      { numRuns: 150 },
    );
    assert.ok(seen[0]! > 10 && seen[1]! > 10, `both kinds of schedule were tried (${seen.join("/")})`);
  });

  it("FIFO, permits never over the limit, no lost wake-up, under random weighted load", { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ permits: fc.integer({ min: 1, max: 4 }), yields: fc.integer({ min: 0, max: 4 }), delay: fc.integer({ min: 0, max: 3 }) }), {
          minLength: 1,
          maxLength: 25,
        }),
        async (capacity, requests) => {
          const sem = new Semaphore(capacity, { name: "prop" });
          let inUse = 0;
          let peak = 0;
          const granted: number[] = [];
          const onAcquire = (msg: unknown) => {
            const m = msg as { lock: unknown; task: TaskRecord | undefined };
            if (m.lock === sem) granted.push(Number(m.task?.parent?.name.slice(1)));
          };
          diagnosticsChannel.subscribe(channelNames.lockAcquire, onAcquire);
          try {
            const issued: number[] = [];
            const all: Promise<void>[] = [];
            for (const [i, r] of requests.entries()) {
              await yieldTimes(r.delay);
              const permits = Math.min(r.permits, capacity);
              issued.push(i);
              all.push(
                runInTask(new TaskRecord(`r${i}`, "task", undefined, undefined), () =>
                  sem.runExclusive(
                    async () => {
                      inUse += permits;
                      peak = Math.max(peak, inUse);
                      await yieldTimes(r.yields);
                      inUse -= permits;
                    },
                    { permits },
                  ),
                ),
              );
            }
            await Promise.all(all); // no lost wake-up: every request completes
            assert.ok(peak <= capacity, `peak ${peak} > ${capacity}`);
            assert.deepEqual(granted, issued, "grants in request order");
            assert.equal(sem.available, capacity);
          } finally {
            diagnosticsChannel.unsubscribe(channelNames.lockAcquire, onAcquire);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("a waiter that times out or is aborted never takes a permit", { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom("ok", "abort", "timeout"), { minLength: 1, maxLength: 12 }), async (kinds) => {
        const m = new Mutex({ name: "give-up" });
        const first = await m.acquire();
        const got: number[] = [];
        const controllers: AbortController[] = [];
        const waits = kinds.map((k, i) => {
          const c = new AbortController();
          controllers.push(c);
          const p = m.acquire(k === "timeout" ? { timeout: 1 } : { signal: c.signal });
          return p.then(
            (lease) => {
              got.push(i);
              lease.release();
            },
            () => {},
          );
        });
        kinds.forEach((k, i) => {
          if (k === "abort") controllers[i]!.abort();
        });
        // every timed-out waiter has given up before the lock is released
        await Promise.all(waits.filter((_, i) => kinds[i] === "timeout"));
        first.release();
        await Promise.all(waits);
        assert.deepEqual(
          got,
          kinds.flatMap((k, i) => (k === "ok" ? [i] : [])),
        );
        assert.equal(m.isLocked, false);
      }),
      { numRuns: 60 },
    );
  });
});
