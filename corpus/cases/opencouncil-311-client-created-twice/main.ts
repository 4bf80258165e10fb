// opencouncil#311 (review: "Race condition on concurrent requests"): getClient() checks the
// cached client, then awaits the connection before caching it. Two requests that arrive while
// it is unset both create and connect a client; the first one's reference is overwritten and it
// stays connected, never closed, so the process cannot exit.
import Redis from "ioredis";

let client: Redis | null = null;

async function getClient() {
  if (!client) {
    const c = new Redis(process.env.CORPUS_REDIS_URL ?? "redis://127.0.0.1:6379", { lazyConnect: true });
    await c.connect();
    client = c;
  }
  return client;
}

async function stats() {
  const redis = await getClient();
  return redis.info("stats");
}

async function main() {
  const [a, b] = await Promise.all([stats(), stats()]);
  console.log(a.length > 0, b.length > 0);
  await client?.quit();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
