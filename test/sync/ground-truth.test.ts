import "./with-await-graph.js";
// Random programs against ground truth. Each program is a few tasks whose steps take locks
// (runExclusive) with nested steps inside, either awaited or not, started directly, from a
// setImmediate callback or from an EventEmitter listener, with ticks between. The same program
// runs twice on the same engine: in production mode, where nothing is judged before the event
// loop drains, and in debug mode, where the await graph proves knots at once. The schedules are
// the same until the first proof, so the production run is the truth: if every task finishes
// there, nothing was deadlocked and debug mode must throw no DeadlockError; if something hangs
// there, a knot of awaits and queues exists, and debug mode must prove it and have every task
// end. (async-mutex cannot be the reference: it grants even a free lock a microtask later, so
// the same program interleaves differently and deadlocks where this engine does not.) Programs with time limits and aborts are checked for soundness: no
// proof may name a waiter that a limit will end, and every task ends.
// ASYNCDOCTOR_PROPERTY_RUNS raises the budget (scripts/property-budget.mjs runs 18,000).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import fc from "fast-check";
import { Mutex } from "../../src/sync/mutex.js";
import { Semaphore } from "../../src/sync/semaphore.js";
import { DeadlockError } from "../../src/core/errors.js";
import { configure } from "../../src/core/config.js";
import { collecting, tick } from "../helpers.js";

type Step =
  { t: "tick" } | { t: "lock"; lock: number; awaited: boolean; via: "direct" | "immediate" | "listener"; limit: "none" | "timeout" | "abort"; body: Step[] };

interface Program {
  tasks: Step[][];
}

const LOCKS = 3; // two mutexes and a semaphore of 2

function stepArb(depth: number, limits: boolean): fc.Arbitrary<Step> {
  const tick = fc.constant<Step>({ t: "tick" });
  if (depth === 0) return tick;
  const lock: fc.Arbitrary<Step> = fc.record({
    t: fc.constant("lock" as const),
    lock: fc.integer({ min: 0, max: LOCKS - 1 }),
    awaited: fc.boolean(),
    via: fc.constantFrom("direct" as const, "direct" as const, "immediate" as const, "listener" as const),
    limit: limits ? fc.constantFrom("none" as const, "timeout" as const, "abort" as const) : fc.constant("none" as const),
    body: fc.array(stepArb(depth - 1, limits), { maxLength: 3 }),
  });
  return fc.oneof({ weight: 1, arbitrary: tick }, { weight: 3, arbitrary: lock });
}

const programArb = (limits: boolean): fc.Arbitrary<Program> =>
  fc.record({ tasks: fc.array(fc.array(stepArb(3, limits), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }) });

interface Locks {
  run(i: number, fn: () => Promise<void>, limit: "none" | "timeout" | "abort"): Promise<void>;
}

function asyncdoctorLocks(): Locks {
  const locks = [new Mutex({ name: "m0" }), new Mutex({ name: "m1" }), new Semaphore(2, { name: "s2" })];
  return {
    run(i, fn, limit) {
      const options = limit === "timeout" ? { timeout: 5 } : limit === "abort" ? { signal: AbortSignal.timeout(5) } : undefined;
      return locks[i]!.runExclusive(fn, options);
    },
  };
}

/** The program in production mode: no proof before the drain, so it shows what really hangs. */
async function truthOf(program: Program): Promise<{ finished: boolean; errors: unknown[] }> {
  configure({ mode: "production" });
  try {
    return (await collecting(async () => execute(program, asyncdoctorLocks()))).result;
  } finally {
    configure({ mode: "debug" });
  }
}

/** Runs a program; resolves with whether every task and every detached step ended, and the errors seen. */
async function execute(program: Program, locks: Locks, limits = false): Promise<{ finished: boolean; errors: unknown[] }> {
  const detached: Promise<void>[] = [];
  const errors: unknown[] = [];
  const events = new EventEmitter();
  const runSteps = async (steps: Step[]): Promise<void> => {
    for (const s of steps) {
      if (s.t === "tick") {
        await tick();
        continue;
      }
      const start = () => locks.run(s.lock, () => runSteps(s.body), s.limit);
      if (s.via === "direct") {
        if (s.awaited) await start();
        else detached.push(start().catch((e: unknown) => void errors.push(e)));
      } else if (s.via === "immediate") {
        // a callback scheduled inside: never awaited by the code that scheduled it
        detached.push(new Promise<void>((r) => setImmediate(() => r(start().catch((e: unknown) => void errors.push(e))))));
      } else {
        events.once("go", () => detached.push(start().catch((e: unknown) => void errors.push(e))));
        events.emit("go");
      }
    }
  };
  const tasks = program.tasks.map((steps) => runSteps(steps).catch((e: unknown) => void errors.push(e)));
  let settled = false;
  const all = (async () => {
    await Promise.all(tasks);
    for (let seen = 0; seen < detached.length; seen++) await detached[seen];
    settled = true;
  })();
  // a hang is a program still unsettled after many turns of the loop with nothing left to run
  for (let i = 0; i < 60 && !settled; i++) await tick();
  // limits of 5 ms fire in here; a chain of them (each holder timing out in turn) takes longer
  for (let i = 0; i < (limits ? 60 : 3) && !settled; i++) await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < 60 && !settled; i++) await tick();
  void all;
  return { finished: settled, errors };
}

const runs = Number(process.env.ASYNCDOCTOR_PROPERTY_RUNS) || 150;

describe("deadlock proofs against ground truth", () => {
  it("no DeadlockError when the program finishes without detection; a proof for every program that hangs", async () => {
    let hung = 0;
    let fine = 0;
    await fc.assert(
      fc.asyncProperty(programArb(false), async (program) => {
        const truth = await truthOf(program);
        const { result: ours } = await collecting(async () => execute(program, asyncdoctorLocks()));
        const deadlocks = ours.errors.filter((e) => e instanceof DeadlockError);
        if (truth.finished) {
          fine++;
          assert.deepEqual(
            deadlocks.map((e) => (e as Error).message),
            [],
            "a false DeadlockError",
          );
          assert.ok(ours.finished, "debug mode must finish what production mode finishes");
        } else {
          hung++;
          assert.ok(deadlocks.length > 0, "a knot that hangs must be proven");
          assert.ok(ours.finished, "the rejection breaks the knot: every task ends");
        }
      }),
      { numRuns: runs, seed: 9_2026 },
    );
    assert.ok(hung > 0 && fine > 0, `both kinds of program were generated (${fine} fine, ${hung} hung)`);
  });

  it("with time limits and aborts: never a proof a limit would break, and every task ends", async () => {
    await fc.assert(
      fc.asyncProperty(programArb(true), async (program) => {
        const { result: ours, found } = await collecting(async () => execute(program, asyncdoctorLocks(), true));
        assert.ok(ours.finished, "every task ends: limits leave their queues, proofs break knots");
        for (const d of found.filter((x) => x.certainty === "proven")) {
          assert.ok(!/time limit/.test(d.summary), d.summary);
        }
      }),
      { numRuns: Math.max(50, Math.round(runs / 3)), seed: 19_2026 },
    );
  });
});
