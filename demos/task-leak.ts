/**
 * Seed 1.1/1.2 and demo 1: fire-and-forget work that nobody keeps. In Python the task can be
 * garbage-collected; in Node.js the work is cut off when the program shuts down or exits, and
 * nobody knows which jobs were lost.
 */
import { TaskTracker } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";
import { setTimeout as timer } from "node:timers/promises";

// Node's abortable timer: rejects with an AbortError when the signal fires
const delay = (ms: number, signal?: AbortSignal): Promise<void> => timer(ms, undefined, { signal });

async function sendNotification(i: number, done: number[], signal?: AbortSignal): Promise<void> {
  await delay(5 + i * 10, signal); // the later notifications take longer
  done.push(i);
}

/** The bug: started and forgotten; "shutdown" does not know about them. */
async function bugFireAndForget(done: number[]): Promise<void> {
  for (let i = 0; i < 5; i++) {
    sendNotification(i, done);
  }
}

/** The fix: a tracker keeps every task and shutdown waits for them. */
async function fixedWithTracker(done: number[]): Promise<TaskTracker> {
  // captureSites: the report names the line that spawned each task (always on in debug mode)
  const tracker = new TaskTracker({ name: "notifications", captureSites: true });
  for (let i = 0; i < 5; i++) {
    tracker.spawn((signal) => sendNotification(i, done, signal), { name: `notify-${i}` });
  }
  return tracker;
}

export const taskLeak: Demo = {
  name: "task-leak",
  title: "fire-and-forget tasks cut off at shutdown vs a TaskTracker",
  seed: "1.1, 1.2, demo 1",
  async run(out) {
    out.section("the bug: fire-and-forget, then shut down after 20 ms");
    const lost: number[] = [];
    await bugFireAndForget(lost);
    await delay(20); // the app's shutdown hook knows of no pending work and returns
    out.log(`notifications sent before shutdown: ${lost.length} of 5 (${lost.join(", ")}); the rest are cut off, with no log`);

    out.section("asyncdoctor's report: a shutdown whose timeout is too short names what was still running");
    const short: number[] = [];
    const { found: bug } = await collect(async () => {
      const tracker = await fixedWithTracker(short);
      const report = await tracker.shutdown({ timeout: 20, abortGrace: 5 });
      out.log(report.toString());
      out.log(`stats: ${JSON.stringify(report.stats)}`);
    });
    for (const d of bug.slice(0, 2)) out.diagnosis(d);
    if (bug.length > 2) out.log(`… and ${bug.length - 2} more leaked-task reports`);

    out.section("the fix: keep every task in a tracker and let shutdown wait for them");
    const sent: number[] = [];
    const { found: fixed } = await collect(async () => {
      const tracker = await fixedWithTracker(sent);
      const report = await tracker.shutdown({ timeout: 5_000 });
      out.log(`${report.toString()}; sent ${sent.length} of 5; stats: ${JSON.stringify(tracker.stats())}`);
    });
    return { bug, fixed };
  },
};
