// generic-pool#85 "how to set timeout for resource acquiring": once every resource is in use
// the acquire callback is never called, which users saw as a deadlock. The usual cause is a
// path that acquires and never releases: here a job that fails between acquire and release.
import genericPool from "generic-pool";

const pool = genericPool.createPool(
  { create: async () => ({ socket: Math.random() }), destroy: async () => {} },
  { max: 2 },
);

async function runJob(n: number) {
  const client = await pool.acquire();
  if (n % 2 === 1) throw new Error(`job ${n} failed`);
  await pool.release(client);
  return n;
}

async function main() {
  for (let n = 0; n < 6; n++) {
    try {
      console.log("done", await runJob(n));
    } catch (err) {
      console.error((err as Error).message);
    }
  }
  await pool.drain();
  await pool.clear();
}

main();
