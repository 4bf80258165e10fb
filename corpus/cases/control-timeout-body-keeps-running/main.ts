// Correct: a hand-written withTimeout (Promise.race against a timer) gives up on a slow job,
// whose body keeps running and finishes later; the caller handles the timeout and the job's
// own result is still awaited before exit.
import { Mutex } from "async-mutex";

const mutex = new Mutex();

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function slowReport() {
  return mutex.runExclusive(async () => {
    await new Promise((r) => setTimeout(r, 60));
    return "report ready";
  });
}

async function main() {
  const job = slowReport();
  try {
    console.log(await withTimeout(job, 20));
  } catch (err) {
    console.log("gave up:", (err as Error).message);
  }
  console.log("later:", await job);
  console.log(await mutex.runExclusive(async () => "lock free again"));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
