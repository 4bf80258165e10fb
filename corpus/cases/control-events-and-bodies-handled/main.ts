// Correct counterparts of several reports at once: the 'ready' listener is attached before the
// event can fire (kafka-node#1349), the queue's onIdle() is used instead of waiting for a
// future 'idle' event (p-queue#237), async work over an array is awaited with Promise.all
// (babel#909), the request's 'timeout' destroys it (FreeShow#3551), and every response body is
// read (sanity#12681), each request bounded by a timeout.
import { EventEmitter, once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import PQueue from "p-queue";
import { Agent, request } from "undici";

class Producer extends EventEmitter {
  connect() {
    setImmediate(() => this.emit("ready"));
    return this;
  }
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { timeout: 1000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

async function main(base: string) {
  const producer = new Producer();
  const ready = once(producer, "ready");
  producer.connect();
  await ready;

  const queue = new PQueue({ concurrency: 2 });
  await queue.onIdle();

  const lengths = await Promise.all([1, 2, 3].map(async (n) => (await get(`${base}/item/${n}`)).length));

  const dispatcher = new Agent({ connections: 1 });
  const ping = await request(`${base}/ping`, { dispatcher, headersTimeout: 1000, bodyTimeout: 1000 });
  await ping.body.dump();
  const data = await request(`${base}/data`, { dispatcher, headersTimeout: 1000, bodyTimeout: 1000 });
  console.log(lengths, ping.headers["x-shard"], (await data.body.text()).length);
  await dispatcher.close();
}

const server = http.createServer((req, res) => {
  res.setHeader("x-shard", "eu-1");
  res.end(`body of ${req.url}`);
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  main(`http://127.0.0.1:${port}`)
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(() => server.close());
});
