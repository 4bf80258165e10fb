/**
 * Seed demo 3 (timeout protection): the seed's `with_timeout` can only say "timed out, maybe a
 * deadlock". asyncdoctor's withTimeout aborts the work through its signal and says what the
 * operation was waiting on and who holds it.
 */
import { TimeoutError, withTimeout } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";
import { setTimeout as timer } from "node:timers/promises";

// Node's abortable timer: rejects with an AbortError when the signal fires
const sleep = (ms: number, signal?: AbortSignal): Promise<void> => timer(ms, undefined, { signal });

/** The bug: an await with no limit on something that may never come back. */
async function bugPotentiallyStuck(cleanup: AbortSignal): Promise<void> {
  await sleep(10_000, cleanup); // (the signal only lets the demo clean up; the bug has no limit)
}

/** The fix: a named limit whose signal stops the work. */
async function fixedWithLimit(): Promise<void> {
  await withTimeout((signal) => sleep(10_000, signal), 50, { name: "potentially-stuck operation" });
}

export const timeout: Demo = {
  name: "timeout",
  title: "an await that may hang, with a named limit that stops the work",
  seed: "demo 3",
  async run(out) {
    out.section("the bug: an unbounded await (cut here by a 50 ms race so the demo goes on)");
    const started = Date.now();
    const cleanup = new AbortController();
    const stuck = bugPotentiallyStuck(cleanup.signal);
    await Promise.race([stuck, sleep(50)]);
    out.log(`after ${Date.now() - started} ms it is still waiting, and nothing says on what; it would have waited 10 s, or for ever`);

    out.section("asyncdoctor's report");
    const { result: timedOut } = await collect(async () => {
      try {
        await fixedWithLimit();
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
        out.diagnosis(err.diagnosis);
        return [err.diagnosis];
      }
      return [];
    });

    out.section("the fix");
    out.log("every await that can block gets a limit (withTimeout) and the signal, so the work stops instead of piling up");
    out.log("the program did not hang: the operation was stopped after its 50 ms budget");
    stuck.catch(() => {});
    cleanup.abort();
    return { bug: timedOut, fixed: [] };
  },
};
