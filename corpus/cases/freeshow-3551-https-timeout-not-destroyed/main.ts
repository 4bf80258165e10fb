// FreeShow#3551 "httpsRequest never aborts on timeout, can hang cloud sync forever": the request
// sets a `timeout` option, but Node only emits 'timeout'; nothing destroys the request, so with
// a server that never answers the callback is never called. (A local server that accepts and
// never responds stands in for the stalled cloud endpoint.)
import http from "node:http";
import type { AddressInfo } from "node:net";

function httpRequest(url: string, cb: (err: Error | null, body?: string) => void) {
  const req = http.request(url, { method: "GET", timeout: 300 }, (res) => {
    let body = "";
    res.on("data", (d) => (body += d));
    res.on("end", () => cb(null, body));
    res.on("error", (err) => cb(err));
  });
  req.on("error", (err) => cb(err));
  req.end();
}

const stalled = http.createServer(() => {
  // accepts the request and never answers
});
stalled.listen(0, "127.0.0.1", () => {
  const { port } = stalled.address() as AddressInfo;
  httpRequest(`http://127.0.0.1:${port}/sync`, (err, body) => {
    console.log("sync finished", err?.message ?? body);
    stalled.close();
  });
});
