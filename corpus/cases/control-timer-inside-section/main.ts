// Correct: inside the critical section a timer is scheduled whose callback takes the same lock
// later (a retry); the section does not wait for it, so there is no knot.
import { Mutex } from "async-mutex";

const mutex = new Mutex();
let attempts = 0;

async function sync(): Promise<void> {
  await mutex.runExclusive(async () => {
    attempts++;
    if (attempts < 3) {
      setTimeout(() => {
        void sync();
      }, 10);
    }
  });
}

async function main() {
  await sync();
  await new Promise((r) => setTimeout(r, 100));
  await mutex.waitForUnlock();
  console.log("attempts", attempts);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
