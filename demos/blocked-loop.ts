/**
 * Seed: `asyncio.run()` nested in a running loop, and blocking calls in async code. Node.js has
 * no nested loop, but the same harm comes from synchronous work inside async code: while it
 * runs, every other request, timer and I/O callback waits. asyncdoctor's debug mode reports a
 * synchronous stretch longer than the threshold, with the task that ran it and for how long.
 */
import { pbkdf2, pbkdf2Sync } from "node:crypto";
import { promisify } from "node:util";
import { monitorLoopBlocking, TaskTracker } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";

const ITERATIONS = 600_000; // ~0.1–0.2 s of hashing on a typical core

/** The bug: the password is hashed synchronously inside an async request handler. */
async function bugHashPassword(password: string): Promise<string> {
  await Promise.resolve(); // after the request body was read
  return pbkdf2Sync(password, "salt", ITERATIONS, 32, "sha256").toString("hex");
}

/** The fix: the async API hashes on libuv's thread pool; the loop stays free. */
async function fixedHashPassword(password: string): Promise<string> {
  await Promise.resolve();
  return (await promisify(pbkdf2)(password, "salt", ITERATIONS, 32, "sha256")).toString("hex");
}

/** Measures how late a 1 ms timer fires while `work` runs: what every other request feels. */
async function timerLateness(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  const late = new Promise<number>((r) => setTimeout(() => r(performance.now() - start - 1), 1));
  await work();
  return Math.round(await late);
}

export const blockedLoop: Demo = {
  name: "blocked-loop",
  title: "synchronous work in async code blocks the event loop; debug mode names the task",
  seed: "nested asyncio.run / blocking calls",
  async run(out) {
    const stop = monitorLoopBlocking({ thresholdMs: 50 });
    try {
      out.section("the bug: pbkdf2Sync inside an async handler");
      const tracker = new TaskTracker({ name: "requests", captureSites: true });
      const { found: bug } = await collect(async () => {
        const lateness = await timerLateness(() => tracker.spawn(() => bugHashPassword("hunter2"), { name: "POST /signup" }));
        out.log(`a 1 ms timer fired ${lateness} ms late: every other request waited that long`);
        await new Promise((r) => setTimeout(r, 5)); // the report is made on the next turn
      });
      out.section("asyncdoctor's report");
      for (const d of bug) out.diagnosis(d);

      out.section("the fix: the async pbkdf2 runs on the thread pool");
      const { found: fixed } = await collect(async () => {
        const lateness = await timerLateness(() => tracker.spawn(() => fixedHashPassword("hunter2"), { name: "POST /signup" }));
        out.log(`the 1 ms timer fired ${lateness} ms late`);
        await new Promise((r) => setTimeout(r, 5));
      });
      out.log(`reports: ${fixed.length}`);
      return { bug, fixed };
    } finally {
      stop();
    }
  },
};
