// Correct: a job running under the mutex schedules a follow-up job on the same mutex without
// awaiting it. The follow-up waits its turn and runs after the first job releases; nothing
// waits on anything that waits on it. (The correct counterpart of async-mutex#44.)
import { Mutex } from "async-mutex";

const mutex = new Mutex();
const log: string[] = [];

function enqueue(name: string, then?: string) {
  return mutex.runExclusive(async () => {
    log.push(`start ${name}`);
    await new Promise((r) => setTimeout(r, 5));
    if (then) void enqueue(then);
    log.push(`end ${name}`);
  });
}

async function main() {
  await enqueue("import", "reindex");
  await mutex.waitForUnlock();
  await new Promise((r) => setTimeout(r, 20));
  console.log(log.join(", "));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
