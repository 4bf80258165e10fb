// node-redlock#195 "What is the key for redlock": the resource key given to acquire() already
// existed in Redis, so every attempt failed and acquire() rejected with "The operation was
// unable to achieve a quorum during its retry window", reported as an unhandled rejection.
import Redis from "ioredis";
import Redlock from "redlock";

const redis = new Redis(process.env.CORPUS_REDIS_URL ?? "redis://127.0.0.1:6379");
const redlock = new Redlock([redis], { retryCount: 3, retryDelay: 50 });

async function processPayment(id: string) {
  const lock = await redlock.acquire([id], 5000);
  try {
    console.log("processing", id);
  } finally {
    await lock.release();
  }
}

async function main() {
  // the application also stores data under the same key it locks
  await redis.set("ABC123", "payment-data");
  processPayment("ABC123");
  await new Promise((r) => setTimeout(r, 1000));
  redis.disconnect();
}

main();
