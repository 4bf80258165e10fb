/**
 * Seed 2.1 (semaphore deadlock): a function holding a semaphore of 1 calls another that takes
 * the same semaphore. With asyncio.Semaphore (or async-mutex) it waits for itself for ever;
 * asyncdoctor's Semaphore rejects the nested acquire at once, naming it.
 */
import { configure, DeadlockError, Semaphore } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";
import { cutAfter, naiveSemaphore } from "./naive-lock.js";
import type { Exclusive } from "./naive-lock.js";

/** The bug: outer holds the semaphore and calls inner, which asks for it again. */
async function bugOuter(sem: Exclusive, log: string[]): Promise<void> {
  await sem.runExclusive(async () => {
    await bugInner(sem, log);
  });
}

async function bugInner(sem: Exclusive, log: string[]): Promise<void> {
  await sem.runExclusive(async () => {
    log.push("inner ran");
  });
}

/** The fix: the inner function does not take the semaphore; the caller's hold covers it. */
async function fixedOuter(sem: Exclusive, log: string[]): Promise<void> {
  await sem.runExclusive(async () => {
    await fixedInnerNoSemaphore(log);
  });
}

async function fixedInnerNoSemaphore(log: string[]): Promise<void> {
  log.push("inner ran");
}

export const nestedSemaphore: Demo = {
  name: "nested-semaphore",
  title: "a semaphore acquired again by its holder: hangs, vs rejected at once",
  seed: "2.1",
  async run(out) {
    out.section("the bug: nested acquire of a semaphore of 1, without detection (cut after 50 ms)");
    const log: string[] = [];
    const outcome = await cutAfter(bugOuter(naiveSemaphore(1), log), 50);
    out.log(`after 50 ms: ${outcome}; inner ran: ${log.length > 0}. It would wait for ever, and nothing says why`);

    out.section("asyncdoctor's report: the same code on asyncdoctor's Semaphore, in debug mode (asyncdoctor run)");
    const { found: bug } = await collect(
      async () => {
        // debug mode records every acquire site and what each section awaits
        const sem = new Semaphore(1, { name: "sem" });
        try {
          await bugOuter(sem, []);
          out.log("(no error?)");
        } catch (err) {
          if (!(err instanceof DeadlockError)) throw err;
          out.log(`rejected at once with ${err.name} (kind "${err.kind}")`);
        }
      },
      { mode: "debug" },
    );
    for (const d of bug) out.diagnosis(d);

    out.section("in production mode: nothing is thrown on a guess; a suspected deadlock is reported once it lasts");
    const { found: suspected } = await collect(async () => {
      configure({ longWaitMs: 30 });
      try {
        // production mode cannot see what the section awaits: the wait goes on; here its own limit ends it
        const sem = new Semaphore(1, { name: "sem" });
        await sem
          .runExclusive(() => sem.runExclusive(async () => {}, { timeout: 80 }))
          .catch((err: unknown) => {
            out.log(`after 80 ms the acquire's own timeout ended it: ${(err as Error).name}`);
          });
      } finally {
        configure({ longWaitMs: 10_000 });
      }
    });
    for (const d of suspected.filter((x) => x.data?.suspected === true && x.retracts === undefined)) out.diagnosis(d);
    out.log("with no limit, the event loop's drain proves it: the waiter gets a DeadlockError instead of the program exiting in silence");

    out.section("the fix: the inner function no longer takes the semaphore its caller holds");
    const fixedLog: string[] = [];
    const { found: fixed } = await collect(async () => {
      await fixedOuter(new Semaphore(1, { name: "sem" }), fixedLog);
    });
    out.log(`inner ran: ${fixedLog.length > 0}; reports: ${fixed.length}`);
    return { bug, fixed };
  },
};
