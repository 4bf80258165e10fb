// node-ratelimiter#6 "In concurrent environment, the race condition occurs": two requests from
// the same user read the count (10), each adds one and sets 11; the count should be 12. The
// fix proposed is WATCH (or INCR); here the read-await-write as the limiter did it.
import Redis from "ioredis";

const redis = new Redis(process.env.CORPUS_REDIS_URL ?? "redis://127.0.0.1:6379");

async function hit(user: string, max: number) {
  const key = `limit:${user}:count`;
  const count = Number((await redis.get(key)) ?? 0);
  if (count >= max) return false;
  await redis.set(key, count + 1, "EX", 60);
  return true;
}

async function main() {
  await redis.set("limit:alice:count", 10);
  await Promise.all([hit("alice", 100), hit("alice", 100)]);
  const count = await redis.get("limit:alice:count");
  console.log("count", count, count === "12" ? "" : "(a hit was lost)");
  redis.disconnect();
}

main();
