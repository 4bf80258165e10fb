// node-redlock#305 "Consider sorting resources to avoid deadlock": acquiring [a, b] in one place
// and [b, a] in another can deadlock; the request is to sort the resources or document it.
// Here the two orders come from two jobs that each take one lock and then the other, retrying
// for ever: each holds what the other waits for until the locks' TTL runs out.
import Redis from "ioredis";
import Redlock from "redlock";

const redis = new Redis(process.env.CORPUS_REDIS_URL ?? "redis://127.0.0.1:6379");
const redlock = new Redlock([redis], { retryCount: -1, retryDelay: 100, retryJitter: 20 });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function syncAccounts() {
  const accounts = await redlock.acquire(["lock:accounts"], 30_000);
  try {
    await pause(50); // read the accounts
    const audit = await redlock.acquire(["lock:audit"], 30_000);
    await audit.release();
  } finally {
    await accounts.release();
  }
}

async function writeAuditTrail() {
  const audit = await redlock.acquire(["lock:audit"], 30_000);
  try {
    await pause(50); // collect the entries
    const accounts = await redlock.acquire(["lock:accounts"], 30_000);
    await accounts.release();
  } finally {
    await audit.release();
  }
}

Promise.all([syncAccounts(), writeAuditTrail()]).then(() => {
  console.log("both jobs done");
  redis.disconnect();
});
