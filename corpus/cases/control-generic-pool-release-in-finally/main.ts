// Correct: jobs acquire from a generic-pool of max 1 and release in finally, failing or not;
// five jobs at once queue for the one resource and all finish. (The fix of generic-pool#85.)
import genericPool from "generic-pool";

const pool = genericPool.createPool({ create: async () => ({ id: 1 }), destroy: async () => {} }, { max: 1 });

async function runJob(n: number) {
  const client = await pool.acquire();
  try {
    await new Promise((r) => setTimeout(r, 2));
    if (n % 2 === 1) throw new Error(`job ${n} failed`);
    return n;
  } finally {
    await pool.release(client);
  }
}

async function main() {
  const results = await Promise.allSettled([0, 1, 2, 3, 4].map(runJob));
  console.log(results.map((r) => r.status));
  await pool.drain();
  await pool.clear();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
