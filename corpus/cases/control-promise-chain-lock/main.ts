// Correct: a promise-chain lock (this.last = this.last.then(fn)) used as intended: callers queue
// up, nobody waits inside a turn for a later turn. (The correct counterpart of auth-js#762.)
class SerialQueue {
  private last: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.last.then(fn, fn);
    this.last = next.catch(() => undefined);
    return next;
  }
}

const queue = new SerialQueue();
let session = 0;

async function refresh() {
  return queue.run(async () => {
    await new Promise((r) => setTimeout(r, 5));
    return ++session;
  });
}

async function read() {
  return queue.run(async () => session);
}

async function main() {
  const [a, b, c] = await Promise.all([refresh(), read(), refresh()]);
  console.log(a, b, c, await read());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
