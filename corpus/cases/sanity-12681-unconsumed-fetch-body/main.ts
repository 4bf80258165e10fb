// sanity#12681 "cancel fetch response bodies to prevent connection blocking": three places read
// only a response's headers or status and left the body unread, which kept the stream open and
// stalled the requests queued behind it on the same connection. Here the same mistake with
// undici's request() and one connection per origin: the unread body holds the connection and
// the next request waits behind it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, request } from "undici";

const dispatcher = new Agent({ connections: 1, bodyTimeout: 0 });

async function shardOf(base: string) {
  const { headers } = await request(`${base}/ping`, { dispatcher });
  return headers["x-shard"];
}

async function main(base: string) {
  const shard = await shardOf(base);
  const { body } = await request(`${base}/data`, { dispatcher });
  console.log(shard, (await body.text()).length);
}

const server = http.createServer((req, res) => {
  res.setHeader("x-shard", "eu-1");
  // a streamed body: the first part now, the rest once the client reads it
  res.write("x".repeat(256 * 1024));
  if (req.url === "/data") res.end("ok");
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  main(`http://127.0.0.1:${port}`).then(() => {
    server.close();
    dispatcher.close();
  });
});
