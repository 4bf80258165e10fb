/**
 * Seed demo 4 (`gather(return_exceptions=True)`): several tasks fail; Promise.all keeps the
 * first error and silently drops the rest. A TaskGroup reports every failure with its task.
 */
import { TaskGroup, TaskGroupError } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";

async function mayFail(i: number): Promise<string> {
  await Promise.resolve();
  if (i % 2 === 0) throw new Error(`task ${i} failed`);
  return `task ${i} succeeded`;
}

/** The bug: Promise.all rejects with the first failure; the other two are lost. */
async function bugPromiseAll(): Promise<string[]> {
  return Promise.all([0, 1, 2, 3, 4, 5].map((i) => mayFail(i)));
}

/** The fix: a TaskGroup waits for all and reports every failure, each with its task's name. */
async function fixedTaskGroup(): Promise<void> {
  await TaskGroup.run(
    async (group) => {
      for (const i of [0, 1, 2, 3, 4, 5]) group.spawn(() => mayFail(i), { name: `may-fail-${i}` });
    },
    { name: "batch" },
  );
}

export const gatherExceptions: Demo = {
  name: "gather-exceptions",
  title: "many failures: Promise.all keeps one, a TaskGroup reports them all",
  seed: "demo 4",
  async run(out) {
    out.section("the bug: Promise.all over six tasks, three of which fail");
    try {
      await bugPromiseAll();
    } catch (err) {
      out.log(`caught: ${(err as Error).message}  <- the only failure anyone hears of; tasks 2 and 4 failed too`);
    }

    out.section("asyncdoctor: a TaskGroup's error lists every failed task");
    const { found } = await collect(async () => {
      try {
        await fixedTaskGroup();
      } catch (err) {
        if (!(err instanceof TaskGroupError)) throw err;
        for (const line of err.message.split("\n")) out.log(line);
        out.log(`err.errors.length === ${err.errors.length} (an AggregateError: nothing dropped)`);
      }
    });

    out.section("the fix");
    out.log("use TaskGroup.run (or Promise.allSettled and look at every result) where several tasks can fail");
    return { bug: [], fixed: found };
  },
};
