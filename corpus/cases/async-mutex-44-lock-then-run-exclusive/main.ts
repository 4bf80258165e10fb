// async-mutex#44 "Race condition when using runExclusively": the maintainer found that the code
// acquired the mutex (left over from an earlier version) and then called runExclusive() on the
// same mutex without ever releasing the first lock, so the exclusive block never runs.
import { Mutex } from "async-mutex";

const mutex = new Mutex();

async function startMutexTxn(sql: string) {
  await mutex.acquire();
  return mutex.runExclusive(async () => {
    console.log("running", sql);
    return sql.length;
  });
}

startMutexTxn("INSERT INTO log VALUES (1)").then((n) => console.log("ran", n));
