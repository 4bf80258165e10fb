// track(): closing is observed, a resource collected unclosed is a proven leak with its creation
// site, and nothing is reported for resources that were closed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { addCollector } from "../../src/core/diagnosis.js";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { snapshot } from "../../src/core/registry.js";
import { markClosed, openResources, track } from "../../src/diagnose/resources.js";
import type { ResourceSnapshot } from "../../src/core/registry.js";
import { configure } from "../../src/core/config.js";

configure({ onDiagnosis: () => {} }); // keep the test output clean; collectors still see every report

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc (scripts/test.mjs passes it)");

/** Collects garbage until `done()` holds: each round lets finalizers run (an event, not a sleep). */
async function collectUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
}

function watch(): { found: Diagnosis[]; stop: () => void } {
  const found: Diagnosis[] = [];
  const stop = addCollector((d) => {
    if (d.rule === "leaked-resource") found.push(d);
  });
  return { found, stop };
}

class ClientSession {
  closed = false;
  async close(): Promise<string> {
    this.closed = true;
    return "closed";
  }
}

function openAndDrop(name: string): void {
  track(new ClientSession(), { name });
}

function openCloseAndDrop(name: string): Promise<unknown> {
  const s = track(new ClientSession(), { name });
  return s.close();
}

const resourcesSection = () => snapshot()["resources"] as ResourceSnapshot[];

describe("track()", () => {
  it("reports a resource collected unclosed as a proven leak, with the line that opened it", async () => {
    const { found, stop } = watch();
    openAndDrop("github-session");
    await collectUntil(() => found.some((d) => d.summary.includes("github-session")));
    stop();
    const d = found.find((x) => x.summary.includes("github-session"));
    assert.ok(d, "the leak was reported");
    assert.equal(d.certainty, "proven");
    assert.match(d.summary, /resource "github-session" was garbage-collected without being closed/);
    assert.match(d.site?.file ?? "", /test\/diagnose\/resources\.test\.ts$/);
    assert.equal(d.site?.line, 42); // track(new ClientSession(), { name }) in openAndDrop
  });

  it("stays silent for resources that were closed (close(), await using, a close option, markClosed)", async () => {
    const { found, stop } = watch();
    await openCloseAndDrop("closed-by-close");
    await (async () => {
      await using s = track(new ClientSession(), { name: "closed-by-using" });
      assert.equal(s.closed, false);
    })();
    await (async () => {
      const raw = { shut: false };
      await using r = track(raw, { name: "closed-by-option", close: (x) => (x.shut = true) });
      void r;
    })();
    (() => {
      const s = track({ end() {} }, { name: "closed-by-mark" });
      markClosed(s);
    })();
    openAndDrop("sentinel"); // once this one is reported, the others had their chance too
    await collectUntil(() => found.some((d) => d.summary.includes("sentinel")));
    stop();
    assert.deepEqual(
      found.map((d) => d.summary.match(/"([^"]+)"/)?.[1]),
      ["sentinel"],
    );
  });

  it("keeps the close method's result and `this`, and lists open resources in snapshots", async () => {
    const s = track(new ClientSession(), { name: "listed" });
    assert.ok(resourcesSection().some((r) => r.name === "listed" && r.site?.line !== undefined));
    assert.equal(await s.close(), "closed");
    assert.equal(s.closed, true);
    assert.ok(!resourcesSection().some((r) => r.name === "listed"));
    assert.ok(!openResources().some((r) => r.name === "listed"));
  });

  it("works with end(), destroy() and Symbol.asyncDispose, and returns the same object", async () => {
    const stream = {
      ended: 0,
      end() {
        this.ended++;
      },
    };
    assert.equal(track(stream, { name: "stream" }), stream);
    stream.end();
    assert.equal(stream.ended, 1);
    assert.ok(!openResources().some((r) => r.name === "stream"));
    const socket = { destroy() {} };
    track(socket, { name: "socket" });
    await Promise.resolve(socket[Symbol.asyncDispose as never as "destroy"]());
    assert.ok(!openResources().some((r) => r.name === "socket"));
    const disposable = {
      disposed: false,
      async [Symbol.asyncDispose]() {
        this.disposed = true;
      },
    };
    track(disposable, { name: "disposable" });
    await disposable[Symbol.asyncDispose]();
    assert.equal(disposable.disposed, true);
    assert.ok(!openResources().some((r) => r.name === "disposable"));
  });

  it("rejects bad arguments, naming the argument and the value", () => {
    assert.throws(() => track(null as never), { name: "TypeError", message: /"resource" argument must be an object\. Received null/ });
    assert.throws(() => track(5 as never), { name: "TypeError", message: /"resource".*Received type number \(5\)/ });
    assert.throws(() => track({}), { name: "TypeError", message: /"resource" argument must be an object with a close\(\)/ });
    assert.throws(() => track({ close() {} }, null as never), { name: "TypeError", message: /"options"/ });
    assert.throws(() => track({ close() {} }, { name: 3 as never }), { name: "TypeError", message: /"options\.name".*Received type number \(3\)/ });
    assert.throws(() => track({ close() {} }, { close: 3 as never }), { name: "TypeError", message: /"options\.close".*Received type number/ });
    assert.throws(() => track({ close() {} }, { close: "shutdown" }), { name: "TypeError", message: /"options\.close" argument must be the name of a method/ });
    assert.throws(() => track(Object.freeze({ close() {} })), { name: "TypeError", message: /extensible/ });
    assert.throws(() => markClosed(undefined as never), { name: "TypeError", message: /"resource".*Received undefined/ });
  });
});
