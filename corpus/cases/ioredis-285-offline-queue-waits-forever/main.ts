// ioredis#285 "Command timeout in offline queue": with the offline queue and reconnection on,
// and a server that is down (or a wrong address), the client retries for ever and the command's
// promise is never resolved nor rejected.
import Redis from "ioredis";

// nothing listens on this port
const redis = new Redis({ host: "127.0.0.1", port: 1, maxRetriesPerRequest: null, retryStrategy: () => 200 });
redis.on("error", () => {});

async function getActivity(key: string) {
  const cached = await redis.get(key);
  return cached ? JSON.parse(cached) : { code: 404 };
}

getActivity("activity:today").then((a) => {
  console.log(a);
  redis.disconnect();
});
