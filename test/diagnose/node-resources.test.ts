// Node's own resources observed with no track() call (debug mode): each left open is listed with
// the line that created it; each closed (or consumed, exited, cleared, unref'd) is not.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loopKeepers, observeNodeResources, openNodeResources } from "../../src/diagnose/node-resources.js";
import { openResources } from "../../src/diagnose/resources.js";

const here = /node-resources\.test\.ts$/;
const openNamed = (re: RegExp) => openNodeResources().filter((e) => re.test(e.name));

describe("observeNodeResources()", () => {
  let stop: () => void;
  let dir: string;
  let file: string;
  let server: http.Server;
  let url: string;
  before(async () => {
    stop = observeNodeResources();
    dir = mkdtempSync(join(tmpdir(), "asyncdoctor-res-"));
    file = join(dir, "data.txt");
    writeFileSync(file, "hello\n");
    server = http.createServer((_req, res) => res.end("x".repeat(100_000)));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an fs stream left open; not once it is closed", async () => {
    const s = createReadStream(file);
    const [entry] = openNamed(/read stream of .*data\.txt/);
    assert.match(entry?.site?.file ?? "", here);
    assert.ok(openResources().includes(entry!), "the exit report and test helpers see it");
    s.destroy();
    await once(s, "close");
    assert.equal(openNamed(/read stream of .*data\.txt/).length, 0);
  });

  it("a FileHandle left open; not once it is closed", async () => {
    const fh = await open(file);
    const [entry] = openNamed(/^FileHandle/);
    assert.match(entry?.site?.file ?? "", here);
    await fh.close();
    assert.equal(openNamed(/^FileHandle/).length, 0);
  });

  it("an http response whose body was never read keeps its socket; a consumed one does not", async () => {
    const req = http.get(url);
    const [res] = (await once(req, "response")) as [http.IncomingMessage];
    const [entry] = openNamed(/^http response to GET/);
    assert.match(entry?.site?.file ?? "", here);
    assert.match(entry?.why ?? "", /its body was never read to the end, so its socket stays checked out/);
    res.resume();
    await once(res, "end");
    assert.equal(openNamed(/^http response to GET/).length, 0);
    assert.equal(openNamed(/^http request/).length, 0, "the request got its response");
  });

  it("a request never sent (no end()) is open; a fetch Response never read is open; a read one is not", async () => {
    const req = http.request(url, { method: "POST" });
    const [pending] = openNamed(/^http request POST/);
    assert.match(pending?.why ?? "", /never sent: req\.end\(\) was not called/);
    req.on("error", () => {}); // destroying it is the point
    req.destroy();
    assert.equal(openNamed(/^http request POST/).length, 0);
    const unread = await fetch(url);
    const [entry] = openNamed(/^fetch Response from/);
    assert.match(entry?.site?.file ?? "", here);
    await unread.text();
    assert.equal(openNamed(/^fetch Response from/).length, 0);
  });

  it("a ref'd interval and a listening server keep the loop alive; an unref'd or cleared interval does not", () => {
    const t = setInterval(() => {}, 60_000);
    const u = setInterval(() => {}, 60_000).unref();
    const keepers = loopKeepers();
    const interval = keepers.find((k) => k.kind === "interval");
    assert.match(interval?.site?.file ?? "", here);
    assert.equal(keepers.filter((k) => k.kind === "interval").length, 1, "the unref'd one is not listed");
    assert.ok(keepers.some((k) => k.kind === "server" && /^server listening on port \d+/.test(k.name)));
    clearInterval(t);
    clearInterval(u);
    assert.equal(loopKeepers().filter((k) => k.kind === "interval").length, 0);
  });

  it("a socket left connected; a child process still running; neither once closed or exited", async () => {
    const sock = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
    await once(sock, "connect");
    const [s] = openNamed(/^socket to 127\.0\.0\.1/);
    assert.match(s?.site?.file ?? "", here);
    sock.destroy();
    await once(sock, "close");
    assert.deepEqual(
      openNamed(/^socket to/).map((e) => `${e.name} ${e.site?.line}`),
      [],
    );
    const child = spawn("sleep", ["30"]);
    await once(child, "spawn");
    const [c] = openNamed(/^child process sleep/);
    assert.match(c?.site?.file ?? "", here);
    child.kill();
    await once(child, "exit");
    assert.equal(openNamed(/^child process/).length, 0);
  });
});
