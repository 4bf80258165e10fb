// node-redlock#309 "Abort scenario still requires waiting for release": a routine under
// redlock.using() blocks the event loop past the point where the lock should have been
// extended, so the extension never happens, the lock expires, and using() then spends seconds
// failing to release it. The blocked loop is the bug; the lock is its victim.
import Redis from "ioredis";
import Redlock from "redlock";

const redis = new Redis(process.env.CORPUS_REDIS_URL ?? "redis://127.0.0.1:6379");
const redlock = new Redlock([redis], { retryCount: 3, retryDelay: 100 });

function buildReport(rows: number) {
  let checksum = 0;
  const start = Date.now();
  while (Date.now() - start < 300) checksum = (checksum + rows * 31) % 1_000_003;
  return checksum;
}

async function test() {
  console.time("lock");
  try {
    await redlock.using(["report:daily"], 200, { automaticExtensionThreshold: 100 }, async (signal) => {
      const checksum = buildReport(10_000);
      if (signal.aborted) throw signal.error;
      return checksum;
    });
  } catch (err) {
    console.log((err as Error).name);
  } finally {
    console.timeEnd("lock");
    redis.disconnect();
  }
}

test();
