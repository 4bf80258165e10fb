/**
 * Seed pitfall 1: an exception in a background task, silently swallowed. In Node.js the usual
 * form is a fire-and-forget call with an empty `.catch(() => {})` added to silence the
 * unhandled-rejection warning: the job fails and nobody ever hears of it.
 */
import { TaskTracker } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";

async function riskyWork(jobId: string): Promise<void> {
  await Promise.resolve();
  throw new Error(`inventory sync failed for ${jobId}`);
}

/** The bug: fire-and-forget, with the warning silenced by an empty catch. */
function bugStartJob(jobId: string, failures: { seen: number }): void {
  riskyWork(jobId).catch(() => {
    failures.seen += 0; // the catch exists only to silence the warning: nothing is logged
  });
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
    out.section("the bug: fire-and-forget with an empty .catch() to silence the warning");
    const failures = { seen: 0 };
    bugStartJob("job-17", failures);
    await new Promise((r) => setImmediate(r));
    out.log(`the job failed; what the app saw: ${failures.seen} error(s), no job name, no place, no log line`);

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
