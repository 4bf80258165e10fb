// opena2a#100 "drain in-flight events on exit": the CLI's dispatcher did `void tele.track(...)`
// and then process.exit(); Node ended the process before fetch() sent the request, so the
// event never arrived. (A local HTTP server stands in for the telemetry endpoint and counts.)
import http from "node:http";
import type { AddressInfo } from "node:net";

let received = 0;
const collector = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    received++;
    res.end("ok");
  });
});

class Telemetry {
  constructor(private readonly endpoint: string) {}
  async track(event: string) {
    await fetch(this.endpoint, { method: "POST", body: JSON.stringify({ event, at: Date.now() }) });
  }
}

async function agentsCommand(tele: Telemetry) {
  console.log("3 agents");
  void tele.track("cli.agents");
  process.exit(0);
}

collector.listen(0, "127.0.0.1", () => {
  const { port } = collector.address() as AddressInfo;
  process.on("exit", () => console.log(`events received: ${received}`));
  agentsCommand(new Telemetry(`http://127.0.0.1:${port}/v1/events`));
});
