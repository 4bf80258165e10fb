// The deadlock demos (seed 2.1, 2.2, 2.3): the bug half is reported, the fixed half is not.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { memoryOutput } from "../../demos/demo.js";
import { nestedSemaphore } from "../../demos/nested-semaphore.js";
import { lockOrder } from "../../demos/lock-order.js";
import { connectionPool } from "../../demos/connection-pool.js";
import { demos } from "../../demos/index.js";

describe("deadlock demos", () => {
  it("are listed in demos/index.ts", () => {
    for (const d of [nestedSemaphore, lockOrder, connectionPool]) assert.ok(demos.includes(d), d.name);
  });

  it("nested-semaphore: the hang, then deadlock-reentrant, then silence", async () => {
    const out = memoryOutput();
    const { bug, fixed } = await nestedSemaphore.run(out);
    assert.deepEqual(
      bug.map((d) => d.rule),
      ["deadlock-reentrant"],
    );
    assert.deepEqual(fixed, []);
    assert.match(out.text, /after 50 ms: hung/);
    assert.match(out.text, /PROVEN deadlock: re-entrant acquire \[deadlock-reentrant\]/);
    assert.match(out.text, /inner ran: true; reports: 0/);
  });

  it("lock-order: the hang, then deadlock-cycle and lock-order-inversion, then silence", async () => {
    const out = memoryOutput();
    const { bug, fixed } = await lockOrder.run(out);
    assert.ok(bug.some((d) => d.rule === "deadlock-cycle"));
    assert.ok(
      bug.some((d) => d.rule === "lock-order-inversion" && d.summary.includes('"accounts"')),
      "reported even when timing hid it",
    );
    assert.deepEqual(fixed, []);
    assert.match(out.text, /after 100 ms: hung/);
    assert.match(out.text, /the cycle is closed/);
  });

  it("connection-pool: the hang, then pool-exhaustion, then silence", async () => {
    const out = memoryOutput();
    const { bug, fixed } = await connectionPool.run(out);
    assert.deepEqual(
      bug.map((d) => d.rule),
      ["pool-exhaustion"],
    );
    assert.deepEqual(fixed, []);
    assert.match(out.text, /after 100 ms: hung/);
    assert.match(out.text, /4 users processed on a pool of 2/);
  });
});
