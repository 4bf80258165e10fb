/**
 * The program of the exit-with-pending demo, run in its own process with debug mode
 * (`--import asyncdoctor/register`): `bug` exits while work is still pending, `fixed` does not.
 */
import { spawn, TaskTracker } from "../../src/index.js";

/** Waits for a reply that never comes: the callback that would resolve it is never wired up. */
function waitForAck(): Promise<void> {
  return new Promise<void>(() => {});
}

/** The bug: the upload waits for an ack that never arrives; the program ends with it pending. */
async function bugUploadAndExit(): Promise<void> {
  spawn(
    async () => {
      await waitForAck();
    },
    { name: "upload-report" },
  );
  console.log("main() returned; the upload is still pending");
}

/** The ack, wired up: the server's acknowledgement resolves it. */
function waitForAckWired(): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, 5)); // stands for the ack event
}

/** The fix: the ack's callback resolves the promise, and the program waits for its tracker. */
async function fixedUploadAndExit(): Promise<void> {
  const tracker = new TaskTracker({ name: "uploads" });
  tracker.spawn(
    async () => {
      await waitForAckWired();
    },
    { name: "upload-report" },
  );
  const report = await tracker.shutdown({ timeout: 5_000 });
  console.log(`shutdown: ${report.toString()}`);
}

await (process.argv[2] === "fixed" ? fixedUploadAndExit() : bugUploadAndExit());
