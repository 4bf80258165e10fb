// Correct: an event emitted while the lock is held is handled by a listener that takes the same
// lock. emit() does not wait for the listener's promise, so the holder finishes and releases,
// and the listener runs next. (The correct counterpart of auth-js#762: there the holder awaited
// its subscribers.)
import { EventEmitter } from "node:events";
import { Mutex } from "async-mutex";

const lock = new Mutex();
const events = new EventEmitter();
let balance = 0;

events.on("deposited", (amount: number) => {
  void lock.runExclusive(async () => {
    console.log("audit", amount, "balance", balance);
  });
});

async function deposit(amount: number) {
  await lock.runExclusive(async () => {
    balance += amount;
    events.emit("deposited", amount);
    await new Promise((r) => setTimeout(r, 5));
  });
}

async function main() {
  await Promise.all([deposit(10), deposit(5)]);
  await lock.waitForUnlock();
  console.log("final", balance);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
