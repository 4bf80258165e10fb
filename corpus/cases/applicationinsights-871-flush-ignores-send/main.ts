// ApplicationInsights-node.js#871 "Data loss at process exit": Sender.send became async, and
// Channel.triggerSend (called by flush) ignores the promise it returns, so flush's callback runs,
// the program exits, and the unsent telemetry is lost. (A local server stands in for the
// ingestion endpoint.)
import http from "node:http";
import type { AddressInfo } from "node:net";

class Sender {
  constructor(private readonly url: string) {}
  async send(items: string[]) {
    await new Promise((r) => setTimeout(r, 50)); // serialise and compress
    await fetch(this.url, { method: "POST", body: JSON.stringify(items) });
  }
}

class Channel {
  private buffer: string[] = [];
  constructor(private readonly sender: Sender) {}
  track(item: string) {
    this.buffer.push(item);
  }
  triggerSend(callback: () => void) {
    if (this.buffer.length > 0) {
      this.sender.send(this.buffer.splice(0));
    }
    callback();
  }
}

let received = 0;
const ingestion = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    received++;
    res.end();
  });
});
ingestion.listen(0, "127.0.0.1", () => {
  const { port } = ingestion.address() as AddressInfo;
  const channel = new Channel(new Sender(`http://127.0.0.1:${port}/v2/track`));
  channel.track("request /checkout 500");
  process.on("exit", (code) => console.log(`exit ${code}, batches received: ${received}`));
  channel.triggerSend(() => process.exit(1));
});
