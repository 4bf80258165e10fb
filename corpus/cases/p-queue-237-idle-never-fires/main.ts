// p-queue#237 "`idle` never fires when queue never receives tasks": shutdown waits for the
// queue's 'idle' event, which is only emitted when the queue becomes idle; when the
// conditional work added nothing, the wait never ends.
import PQueue from "p-queue";

const queue = new PQueue({ concurrency: 2 });

function maybeEnqueue(pending: string[]) {
  for (const job of pending) queue.add(async () => console.log("job", job));
}

async function shutdown() {
  await new Promise((resolve) => {
    queue.on("idle", resolve);
  });
  console.log("queue drained, exiting");
}

maybeEnqueue([]);
shutdown();
