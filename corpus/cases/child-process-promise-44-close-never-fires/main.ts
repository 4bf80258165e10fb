// child-process-promise#44 (fixing #26 "Does not catch 'exit' event from spawn()"): the promise
// settles on the child's 'close' event, which waits for its stdout to close. When the command
// starts a background process that inherits stdout, the command exits but 'close' does not come
// until that process ends, so the promise stays pending.
import { spawn } from "child-process-promise";

async function startDaemon() {
  // the shell exits at once; the sleep it leaves behind keeps the pipe open
  const result = await spawn("sh", ["-c", "sleep 30 & echo started"], { capture: ["stdout"] });
  return result.stdout.trim();
}

startDaemon().then((out) => console.log("daemon:", out));
