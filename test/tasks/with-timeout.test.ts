import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { withTimeout, currentDeadline } from "../../src/tasks/with-timeout.js";
import { TimeoutError } from "../../src/core/errors.js";
import { currentTask, TaskRecord } from "../../src/core/task.js";
import type { WaitTarget } from "../../src/core/task.js";
import { collecting, deferred, untilAborted } from "../helpers.js";

describe("withTimeout", () => {
  it("resolves with the operation's value when it finishes in time", async () => {
    assert.equal(await withTimeout(async () => 5, 1000), 5);
    assert.equal(await withTimeout(Promise.resolve("p"), 1000), "p");
  });

  it("passes the operation's own rejection through", async () => {
    await assert.rejects(
      withTimeout(async () => {
        throw new Error("own");
      }, 1000),
      /own/,
    );
  });

  it("on expiry aborts the work and throws a TimeoutError naming the operation and the elapsed time", async () => {
    let sawAbort: unknown;
    const err = await withTimeout(
      async (signal) => {
        try {
          await untilAborted(signal);
        } catch (e) {
          sawAbort = e;
          throw e;
        }
      },
      20,
      { name: "load-orders" },
    ).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError);
    assert.equal(err.operation, "load-orders");
    assert.equal(err.timeoutMs, 20);
    assert.ok(err.elapsedMs >= 15);
    assert.match(err.message, /operation "load-orders" did not finish within 20 ms \(stopped after \d+ ms\)/);
    assert.equal(err.diagnosis.rule, "timeout");
    assert.equal(sawAbort, err, "the signal's reason is the TimeoutError");
  });

  it("says what the timed-out task was waiting on and who holds it", async () => {
    const holder = new TaskRecord("refresh-cache", "task", undefined, { file: "/app/cache.ts", line: 41, column: 5 });
    const target: WaitTarget = {
      name: "orders-cache",
      kind: "mutex",
      site: undefined,
      holders: () => [{ task: holder, site: { file: "/app/cache.ts", line: 41, column: 5 }, since: performance.now() - 50 }],
    };
    const err = await withTimeout(
      async () => {
        const me = currentTask()!;
        me.waitingOn = { target, since: performance.now(), site: undefined };
        await new Promise(() => {});
      },
      10,
      { name: "read-orders" },
    ).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError);
    assert.match(err.message, /waiting on mutex "orders-cache" held by task "refresh-cache"/);
    assert.ok(err.diagnosis.subjects.some((s) => s.name === "refresh-cache" && s.site?.line === 41));
    assert.match(err.diagnosis.fix, /"refresh-cache" keeps mutex "orders-cache"/);
  });

  it("shares one budget between nested timeouts (a deadline scope)", async () => {
    const err = await withTimeout(
      async () => {
        const d = currentDeadline();
        assert.ok(d && d.remainingMs <= 30);
        // the inner asks for 10 s but only what remains of the outer 30 ms is available
        await withTimeout((signal) => untilAborted(signal), 10_000, { name: "inner" });
      },
      30,
      { name: "outer" },
    ).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError);
    assert.equal(err.operation, "inner");
    assert.match(err.message, /budget left by the enclosing "outer" deadline/);
    assert.ok(err.timeoutMs <= 30);
  });

  it("has no deadline outside any timeout", () => {
    assert.equal(currentDeadline(), undefined);
  });

  it("is aborted by an outside signal, with its reason", async () => {
    const ac = new AbortController();
    const p = withTimeout((signal) => untilAborted(signal), 10_000, { signal: ac.signal });
    ac.abort(new Error("user cancelled"));
    await assert.rejects(p, /user cancelled/);
    const pre = new AbortController();
    pre.abort(new Error("already"));
    await assert.rejects(
      withTimeout(async () => 1, 100, { signal: pre.signal }),
      /already/,
    );
  });

  it("reports the Diagnosis too when asked", async () => {
    const { found } = await collecting(async () => {
      await withTimeout(deferred().promise, 5, { name: "quiet", report: true }).catch(() => {});
    });
    assert.equal(found.length, 1);
    assert.equal(found[0]!.rule, "timeout");
  });

  it("rejects bad input with the argument's name", async () => {
    await assert.rejects(
      withTimeout(async () => 1, -1),
      { name: "RangeError", message: /"ms".*-1/ },
    );
    await assert.rejects(
      withTimeout(async () => 1, NaN),
      { name: "RangeError", message: /"ms".*NaN/ },
    );
    await assert.rejects(
      withTimeout(async () => 1, "100" as never),
      { name: "TypeError", message: /"ms".*number.*string/ },
    );
    await assert.rejects(withTimeout(42 as never, 100), { name: "TypeError", message: /"op" argument must be a function or a promise/ });
    await assert.rejects(
      withTimeout(async () => 1, 100, { name: 3 as never }),
      { name: "TypeError", message: /"options.name"/ },
    );
  });
});
