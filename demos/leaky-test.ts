/**
 * A test that leaks: it starts background work and returns before it ends. The test passes,
 * and the leftover work fails a later test, or keeps the runner from exiting, far from its
 * cause. `asyncdoctor/testing` fails the test that created it, naming what leaked and where,
 * even when tests run concurrently.
 */
import { spawn } from "../src/index.js";
import type { Diagnosis } from "../src/index.js";
import { leakCheck, LeakError } from "../src/testing/index.js";
import type { Demo } from "./demo.js";

let emailsSent = 0;
const sendWelcomeEmail = () =>
  new Promise<void>((resolve) => {
    setTimeout(() => {
      emailsSent++;
      resolve();
    }, 30);
  });

/** The bug: sign-up sends the welcome e-mail in the background; the test does not wait for it. */
async function bugSignUpTest(): Promise<void> {
  spawn(sendWelcomeEmail, { name: "welcome-email" });
  // assertions on the user record pass here; the e-mail is still in flight
}

/** The fix: the code under test returns the task, and the test awaits it. */
async function fixedSignUpTest(): Promise<void> {
  await spawn(sendWelcomeEmail, { name: "welcome-email" });
}

export const leakyTest: Demo = {
  name: "leaky-test",
  title: "a test that leaves background work behind fails, naming the leak and where it began",
  seed: "1.1 (tasks not kept), in a test suite",
  async run(out) {
    out.section("the bug: a test that returns while its background work still runs");
    let bug: readonly Diagnosis[] = [];
    try {
      await leakCheck(bugSignUpTest, { name: "sign-up sends a welcome e-mail" })();
      out.log("the test passed");
    } catch (err) {
      if (!(err instanceof LeakError)) throw err;
      bug = err.diagnoses;
      out.log(`the test failed with ${err.name}: ${err.diagnoses.length} leftover(s)`);
    }
    out.section("asyncdoctor's report (the test's failure message)");
    for (const d of bug) out.diagnosis(d);

    out.section("the fix: await the work the test started");
    let fixed: readonly Diagnosis[] = [];
    try {
      await leakCheck(fixedSignUpTest, { name: "sign-up sends a welcome e-mail" })();
      out.log(`the test passed; e-mails sent: ${emailsSent}`);
    } catch (err) {
      if (!(err instanceof LeakError)) throw err;
      fixed = err.diagnoses;
    }
    return { bug, fixed };
  },
};
