/**
 * Seed pitfall 1: an exception in a background task, silently swallowed. In Node.js the
 * promise of a forgotten job rejects with nobody listening; frameworks often install a
 * catch-all `unhandledRejection` handler that logs a line without saying which job it was, or
 * nothing at all.
 */
import { TaskTracker } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";

async function riskyWork(jobId: string): Promise<void> {
  await null;
  throw new Error(`inventory sync failed for ${jobId}`);
}

const jobs = new Map<string, Promise<void>>();

/** The bug: the job's promise is kept in a map that nobody ever awaits. */
function bugStartJob(jobId: string): void {
  jobs.set(jobId, riskyWork(jobId));
}

/** asyncdoctor: the same job on a tracker: a failure nobody awaited is reported, named. */
function bugStartJobTracked(tracker: TaskTracker, jobId: string): void {
  tracker.spawn(() => riskyWork(jobId), { name: `sync-${jobId}` });
}

/** The fix: await the job (or put it in a TaskGroup) and handle its failure where it belongs. */
async function fixedRunJob(tracker: TaskTracker, jobId: string): Promise<string> {
  try {
    await tracker.spawn(() => riskyWork(jobId), { name: `sync-${jobId}` });
    return "ok";
  } catch (err) {
    return `handled: ${(err as Error).message}`;
  }
}

export const swallowedException: Demo = {
  name: "swallowed-exception",
  title: "an exception in a background task, swallowed vs reported with the task's name",
  seed: "pitfall 1",
  async run(out) {
    out.section("the bug: the job's promise is stored and never awaited; a catch-all handler hides it");
    let swallowed = 0;
    const catchAll = () => {
      swallowed++; // a typical framework catch-all: counts, logs nothing useful
    };
    process.on("unhandledRejection", catchAll);
    bugStartJob("job-17");
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    process.off("unhandledRejection", catchAll);
    jobs.clear();
    out.log(`the job failed; what the app saw: ${swallowed} anonymous rejection(s), no job name, no place`);

    out.section("asyncdoctor's report: the same job spawned on a tracker");
    const { found: bug } = await collect(async () => {
      const tracker = new TaskTracker({ name: "jobs", captureSites: true });
      bugStartJobTracked(tracker, "job-17");
      await tracker.waitAll();
    });
    for (const d of bug) out.diagnosis(d);

    out.section("the fix: await the job where its failure can be handled");
    const { result, found: fixed } = await collect(async () => fixedRunJob(new TaskTracker({ name: "jobs" }), "job-17"));
    out.log(`result: ${result}; reports: ${fixed.length}`);
    return { bug, fixed };
  },
};
