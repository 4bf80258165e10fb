/* eslint-disable @typescript-eslint/no-floating-promises, @typescript-eslint/no-misused-promises -- the promises these tests drop are what they are about */
import "../sync/with-await-graph.js";
// Dropped promises at run time: this file is compiled by the await-graph transform (scripts/test.mjs
// preloads it), so its own statements are the drop sites the detector watches.
import { beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { fileURLToPath } from "node:url";
import { dropRecordOf, startAwaitGraph } from "../../src/core/await-graph.js";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { droppedPromiseFindings, resetDroppedPromises, watchDroppedPromises } from "../../src/diagnose/dropped-promises.js";
import { transformAwaits } from "../../src/diagnose/await-transform.js";
import { deferred, nextMacrotask } from "../helpers.js";

startAwaitGraph();
watchDroppedPromises();
const here = fileURLToPath(import.meta.url);

/** This file's dropped-promise findings if the program ended now. */
function findings(reason: "drained" | "exit" = "drained"): Diagnosis[] {
  return droppedPromiseFindings(reason).filter((d) => d.site?.file === here);
}

/** The line of the call below this one (a test's drop site is the line after the call to lineBelow()). */
function lineBelow(): number {
  return Number(/:(\d+):\d+\)?$/.exec(new Error().stack!.split("\n")[2]!)?.[1]) + 1;
}

async function work(gate: Promise<void>): Promise<string> {
  await gate;
  return "done";
}

beforeEach(() => resetDroppedPromises());

describe("dropped promises: what is reported", () => {
  it("forEach with an async callback: pending when forEach returned, at the forEach line", async () => {
    const gate = deferred();
    let line = 0;
    async function test(): Promise<void> {
      line = lineBelow();
      [1, 2, 3].forEach(async () => {
        await work(gate.promise);
      });
    }
    await test();
    gate.resolve();
    await nextMacrotask();
    const [d, ...rest] = findings();
    assert.equal(rest.length, 0);
    assert.equal(d?.rule, "dropped-promise");
    assert.equal(d.certainty, "observed");
    assert.equal(d.site?.line, line);
    assert.match(
      d.summary,
      /forEach\(\) at .* ignores what its callback returns: 3 promises of the async callback dropped, still pending when forEach\(\) returned/,
    );
    assert.equal(d.data?.pendingAtExit, 0, "they settled later: not pending at the end");
  });

  it("a callback returning a promise to lodash's _.forEach(collection, fn)", async () => {
    const gate = deferred();
    const _ = {
      VERSION: "4.17.21",
      forEach(coll: Record<string, number>, fn: (v: number, k: string) => unknown) {
        for (const [k, v] of Object.entries(coll)) fn(v, k);
        return coll;
      },
      each: undefined as unknown,
    };
    _.each = _.forEach;
    const line = lineBelow();
    _.forEach({ a: 1, b: 2 }, () => work(gate.promise));
    const [d] = findings();
    assert.equal(d?.site?.line, line);
    assert.equal(d.data?.count, 2);
    gate.resolve();
    await nextMacrotask();
  });

  it("`f();` in an async function, still pending when the function returned", async () => {
    const gate = deferred();
    let line = 0;
    async function triggerSend(): Promise<void> {
      line = lineBelow();
      work(gate.promise);
    }
    await triggerSend();
    gate.resolve();
    await nextMacrotask();
    const [d] = findings();
    assert.equal(d?.site?.line, line);
    assert.match(d.summary, /returned by work\(\) at .* was dropped: nothing awaits or handles it; still pending when triggerSend\(\) returned/);
    assert.deepEqual(
      d.subjects.map((s) => s.role),
      ["dropped here"],
    );
  });

  it("`void f()` still pending when the program ends: its work was cut off", async () => {
    const gate = deferred();
    let line = 0;
    async function agentsCommand(): Promise<void> {
      line = lineBelow();
      void work(gate.promise);
    }
    await agentsCommand();
    const [d] = findings("exit");
    assert.equal(d?.site?.line, line);
    assert.match(d.summary, /`void work\(\)` at .* dropped a promise on purpose, but it was still pending when the process exited: its work was cut off/);
    gate.resolve();
    await nextMacrotask();
    assert.deepEqual(findings("exit"), [], "once it finished, nothing is left to report");
  });

  it("a promise dropped in a plain function is reported only if still pending at the end", async () => {
    const gate = deferred();
    function flush(): void {
      work(gate.promise);
    }
    const line = lineBelow();
    flush();
    assert.equal(findings().length, 1);
    assert.equal(findings()[0]!.site?.line, line - 3, "the line of the call that dropped it, in flush()");
    gate.resolve();
    await nextMacrotask();
    assert.deepEqual(findings(), []);
  });

  it("a listener's promise dropped by emit(): the emit line, with where the listener was registered", async () => {
    const gate = deferred();
    const emitter = new EventEmitter();
    const onLine = lineBelow();
    emitter.on("job", () => work(gate.promise));
    const emitLine = lineBelow();
    emitter.emit("job");
    const [d] = findings();
    assert.equal(d?.site?.line, emitLine);
    assert.equal(d.subjects.find((s) => s.role === "listener registered here")?.site?.line, onLine);
    gate.resolve();
    await nextMacrotask();
    assert.deepEqual(findings(), [], "a listener's promise that finishes is fine: an emitter never waits");
  });

  it("a timer callback's promise still pending at the end", async () => {
    const gate = deferred();
    const fired = deferred();
    const line = lineBelow();
    setTimeout(() => {
      fired.resolve();
      return work(gate.promise);
    }, 0);
    await fired.promise;
    const [d] = findings("exit");
    assert.equal(d?.site?.line, line);
    assert.match(d.summary, /setTimeout\(\)'s callback returned a promise that the timer ignores/);
    gate.resolve();
    await nextMacrotask();
  });

  it("a rejected dropped promise carries its drop line (the unhandled-rejection report names it)", async () => {
    const seen = deferred<{ p: Promise<unknown> }>();
    const saved = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.once("unhandledRejection", (_reason, p: Promise<unknown>) => seen.resolve({ p }));
    async function boom(): Promise<void> {
      throw new Error("boom");
    }
    try {
      const line = lineBelow();
      boom();
      const { p } = await seen.promise;
      assert.equal(dropRecordOf(p)?.site.line, line);
      assert.equal(dropRecordOf(p)?.code, "boom()");
    } finally {
      for (const l of saved) process.on("unhandledRejection", l);
    }
  });
});

describe("dropped promises: a long-running program", () => {
  it("keeps a finding once its promises are garbage-collected (folded per site)", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.ok(gc, "the tests run with --expose-gc");
    const line = lineBelow();
    const run = () => [1, 2, 3].forEach(async () => await Promise.resolve());
    run();
    await nextMacrotask();
    for (let i = 0; i < 5; i++) {
      gc();
      await nextMacrotask();
    }
    const [d, ...rest] = findings();
    assert.deepEqual(
      rest.map((x) => x.summary),
      [],
    );
    assert.equal(d?.site?.line, line);
    assert.equal(d.data?.count, 3);
  });
});

describe("dropped promises: what is not", () => {
  it("awaited, stored then awaited, pushed to a field, returned, in Promise.all, or with .catch()", async () => {
    const gate = deferred();
    const pending: Promise<string>[] = [];
    async function caller(): Promise<string> {
      await work(Promise.resolve());
      const p = work(gate.promise);
      pending.push(work(gate.promise));
      work(gate.promise).catch(() => {});
      work(gate.promise).then(
        () => {},
        () => {},
      );
      void Promise.all([work(gate.promise)]);
      setImmediate(() => gate.resolve());
      await p;
      return work(gate.promise);
    }
    await caller();
    await Promise.all(pending);
    await nextMacrotask();
    assert.deepEqual(findings("exit"), []);
  });

  it("a dropped promise that settled before its caller returned", async () => {
    async function quick(): Promise<void> {
      await Promise.resolve();
    }
    async function caller(): Promise<void> {
      quick();
      await nextMacrotask();
    }
    await caller();
    assert.deepEqual(findings("exit"), []);
  });

  it("a promise the callee kept and someone awaits after the caller returned, even after it settled", async () => {
    const gate = deferred();
    const kept: Promise<string>[] = [];
    function start(): Promise<string> {
      const p = work(gate.promise);
      kept.push(p);
      return p;
    }
    async function caller(): Promise<void> {
      start();
    }
    await caller();
    gate.resolve();
    await nextMacrotask();
    await kept[0];
    assert.deepEqual(findings("exit"), []);
  });

  it("`void f()` that finished, and a listener or timer whose promise finished", async () => {
    const gate = deferred();
    const emitter = new EventEmitter();
    emitter.on("x", async () => {
      await gate.promise;
    });
    async function caller(): Promise<void> {
      void work(gate.promise);
      emitter.emit("x");
      setTimeout(() => work(gate.promise), 0);
    }
    await caller();
    await nextMacrotask();
    gate.resolve();
    await nextMacrotask();
    assert.deepEqual(findings("exit"), []);
  });

  it("a forEach that is not Array's and awaits its callback, and an .on() that is not an emitter's", async () => {
    const gate = deferred();
    const jobs = {
      async forEach(fn: (n: number) => Promise<void>) {
        for (const n of [1, 2]) await fn(n);
      },
    };
    const bus = {
      handlers: [] as (() => Promise<unknown>)[],
      on(_: string, h: () => Promise<unknown>) {
        this.handlers.push(h);
      },
    };
    async function caller(): Promise<void> {
      setImmediate(() => gate.resolve());
      await jobs.forEach(async () => {
        await gate.promise;
      });
      bus.on("x", () => work(gate.promise));
    }
    await caller();
    await Promise.all(bus.handlers.map((h) => h()));
    assert.deepEqual(findings("exit"), []);
  });

  it("an emitter with captureRejections handles its listeners' promises", async () => {
    const gate = deferred();
    const emitter = new EventEmitter({ captureRejections: true });
    emitter.on("x", () => work(gate.promise));
    emitter.emit("x");
    assert.deepEqual(findings("exit"), []);
    gate.resolve();
    await nextMacrotask();
  });

  it("the async function that is running when the program ends (it called process.exit()) is not cut off by it", async () => {
    let atExit: Diagnosis[] = [];
    async function command(): Promise<void> {
      await Promise.resolve();
      atExit = findings("exit");
    }
    function dispatch(): void {
      command();
    }
    const done = deferred();
    setImmediate(() => {
      dispatch();
      setImmediate(() => done.resolve());
    });
    await done.promise;
    assert.deepEqual(atExit, []);
  });

  it("a script's top-level `main();` still pending when the loop drains is stuck, not dropped work: only process.exit() reports it", async () => {
    const gate = deferred();
    const file = "/script/main.js";
    const compiled = transformAwaits({ source: "const { gate } = env;\nasync function main() { await gate; }\nmain();\n", file, format: "commonjs" })!;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    (new Function("env", compiled) as (env: { gate: Promise<void> }) => void)({ gate: gate.promise });
    const at = (reason: "drained" | "exit") => droppedPromiseFindings(reason).filter((d) => d.site?.file === file);
    assert.deepEqual(at("drained"), []);
    assert.equal(at("exit")[0]?.site?.line, 3);
    gate.resolve();
    await nextMacrotask();
  });

  it("nothing at a signal the program handles itself: its shutdown may still await what it kept", async () => {
    const gate = deferred();
    const onTerm = () => {};
    process.on("SIGTERM", onTerm);
    try {
      void work(gate.promise);
      assert.deepEqual(
        droppedPromiseFindings("SIGTERM").filter((d) => d.site?.file === here),
        [],
      );
      assert.equal(findings("exit").length, 1);
    } finally {
      process.off("SIGTERM", onTerm);
      gate.resolve();
      await nextMacrotask();
    }
  });

  it("rejects a reason it does not know, naming it", () => {
    assert.throws(() => droppedPromiseFindings("later" as "exit"), {
      name: "RangeError",
      message: /reason: expected one of drained, exit, SIGINT, SIGTERM, got later/,
    });
  });
});

describe("dropped promises: the marks keep the program's behaviour", () => {
  it("a wrapped callback gets the same this, arguments and return value", () => {
    const seen: unknown[] = [];
    const self = { tag: "this-arg" };
    [7].forEach(function (this: unknown, v: number, i: number, all: number[]) {
      seen.push(this, v, i, all.length);
    }, self);
    const emitter = new EventEmitter();
    emitter.on("x", function (this: unknown, a: number, b: number) {
      seen.push(this === emitter, a + b);
    });
    emitter.emit("x", 1, 2);
    assert.deepEqual(seen, [self, 7, 0, 1, true, 3]);
  });

  it("timer callbacks get their extra arguments", async () => {
    const got = deferred<number[]>();
    setTimeout((a: number, b: number) => got.resolve([a, b]), 0, 4, 5);
    assert.deepEqual(await got.promise, [4, 5]);
  });

  it("a forEach whose callback throws: the error goes through, and the next forEach is watched as before", async () => {
    assert.throws(
      () =>
        [1].forEach(() => {
          throw new Error("from the callback");
        }),
      /from the callback/,
    );
    const gate = deferred();
    const line = lineBelow();
    [1].forEach(() => work(gate.promise));
    assert.equal(findings()[0]?.site?.line, line);
    gate.resolve();
    await nextMacrotask();
  });

  it("a call through optional chaining, a statement that is not a call, and a call in a condition", async () => {
    const gate = deferred();
    const maybe: { go?: () => Promise<string> } = { go: () => work(gate.promise) };
    const line = lineBelow();
    maybe.go?.();
    const other = 1 > 0 && work(gate.promise);
    assert.ok(other instanceof Promise);
    const [d, ...rest] = findings();
    assert.equal(d?.site?.line, line);
    assert.equal(rest.length, 0, "a promise kept in a variable is not dropped");
    gate.resolve();
    await other;
  });
});
