// generic-pool#130 "What is the expected behavior when you try to acquire a connection exceeding
// the max number?": with max 1, acquiring a second resource while holding the first is queued
// without limit and without error; here the holder waits for it, so it waits for itself.
import genericPool from "generic-pool";

let nextId = 0;
const mypool = genericPool.createPool(
  {
    create: async () => ({ id: ++nextId, details: "This is a connection" }),
    destroy: async () => {},
  },
  { max: 1, min: 0, idleTimeoutMillis: 5000 },
);

async function main() {
  const connection = await mypool.acquire();
  console.log("Got connection", connection.id);
  const connection2 = await mypool.acquire();
  console.log("Got connection2", connection2.id);
  await mypool.release(connection2);
  await mypool.release(connection);
  await mypool.drain();
  await mypool.clear();
}

main();
