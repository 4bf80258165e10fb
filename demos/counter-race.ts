/**
 * Seed 3 and demo 2: a counter incremented by read, await, write. Every task reads the same
 * old value, so most increments are lost, silently. asyncdoctor's `Shared` reports the lost
 * update with both tasks; `update()` (or a lock across the read-modify-write) fixes it.
 */
import { Shared, TaskGroup } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";

const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));
const WORKERS = 20;

let counter = 0;

/** The bug, as the seed writes it: a plain variable, read before the await and written after. */
async function bugIncrement(): Promise<void> {
  const current = counter;
  await yieldToOthers();
  counter = current + 1;
}

/** The same bug on a Shared value: the runtime sees the stale write and names both tasks. */
async function bugSharedIncrement(shared: Shared<number>): Promise<void> {
  const current = shared.get();
  await yieldToOthers();
  shared.set(current + 1);
}

/** The fix: one atomic read-modify-write. */
async function fixedSharedIncrement(shared: Shared<number>): Promise<void> {
  await shared.update(async (current) => {
    await yieldToOthers();
    return current + 1;
  });
}

async function runWorkers(work: (i: number) => Promise<void>): Promise<void> {
  await TaskGroup.run(async (group) => {
    for (let i = 0; i < WORKERS; i++) group.spawn(() => work(i), { name: `worker-${i}` });
  });
}

export const counterRace: Demo = {
  name: "counter-race",
  title: "read, await, write on shared state: lost updates, reported and fixed",
  seed: "3 (race conditions), demo 2",
  async run(out) {
    out.section(`the bug: ${WORKERS} tasks each do counter = (read) + 1 with an await in between`);
    counter = 0;
    await runWorkers(() => bugIncrement());
    out.log(`counter = ${counter} (expected ${WORKERS}); ${WORKERS - counter} increments lost, and nothing said so`);

    out.section("asyncdoctor's report: the same code on a Shared value");
    const raced = new Shared(0, { name: "counter", captureSites: true });
    const { found: bug } = await collect(() => runWorkers(() => bugSharedIncrement(raced)));
    for (const d of bug) out.diagnosis(d);
    out.log(`counter = ${raced.get()} (one report per place, however many increments were lost)`);

    out.section("the fix: shared.update((v) => …) makes the read-modify-write atomic");
    const safe = new Shared(0, { name: "counter" });
    const { found: fixed } = await collect(() => runWorkers(() => fixedSharedIncrement(safe)));
    out.log(`counter = ${safe.get()} (expected ${WORKERS}); reports: ${fixed.length}`);
    return { bug, fixed };
  },
};
