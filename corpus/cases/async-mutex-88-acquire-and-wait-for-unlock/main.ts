// async-mutex#88 "calling both mutex.acquire() and mutex.waitForUnlock() on a locked mutex will
// cause a deadlock": the same code waits for the lock and, together, for the lock to be free.
// The acquire wins once the holder releases, and the wait for unlock then waits for the very
// lock its own caller now holds.
import { Mutex } from "async-mutex";

async function main() {
  const mtx = new Mutex();
  const release = await mtx.acquire();
  setTimeout(() => {
    release();
  }, 100);
  await Promise.all([mtx.acquire(), mtx.waitForUnlock()]);
  console.log("done");
  mtx.release();
}

main();
