import "./with-await-graph.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../src/sync/pool.js";
import { DeadlockError, TimeoutError } from "../../src/core/errors.js";
import { collecting, deferred } from "../helpers.js";

describe("Pool", () => {
  it("creates up to max resources, reuses idle ones, and queues beyond max", async () => {
    let made = 0;
    const pool = new Pool({ name: "conns", max: 2, create: () => ({ id: ++made }) });
    const gate = deferred();
    const a = pool.use(async (c) => {
      await gate.promise;
      return c.id;
    });
    const b = pool.use(async (c) => {
      await gate.promise;
      return c.id;
    });
    const c = pool.use(async (r) => r.id);
    await new Promise((r) => setImmediate(r));
    assert.equal(pool.inUse, 2);
    assert.equal(pool.waiting, 1);
    gate.resolve();
    const ids = await Promise.all([a, b, c]);
    assert.equal(made, 2);
    assert.ok([1, 2].includes(ids[2]));
    assert.equal(pool.idle, 2);
    assert.equal(pool.available, 2);
  });

  it("discard() destroys a broken resource instead of reusing it; drain() destroys the idle ones", async () => {
    const destroyed: number[] = [];
    let made = 0;
    const pool = new Pool({
      max: 1,
      create: () => ++made,
      destroy: (r) => {
        destroyed.push(r);
      },
    });
    const lease = await pool.acquire();
    assert.equal(lease.resource, 1);
    lease.discard(new Error("socket closed"));
    const again = await pool.acquire();
    assert.equal(again.resource, 2);
    again.release();
    await pool.drain();
    assert.deepEqual(destroyed, [1, 2]);
    assert.equal(pool.idle, 0);
  });

  it("tryAcquire takes an idle resource, never creates or waits", async () => {
    const pool = new Pool({ max: 1, create: () => "r" });
    assert.equal(pool.tryAcquire(), undefined, "nothing idle yet");
    (await pool.acquire()).release();
    const lease = pool.tryAcquire();
    assert.equal(lease?.resource, "r");
    assert.equal(pool.tryAcquire(), undefined, "the only permit is taken");
    lease.release();
  });

  it("gives the permit back when create() fails", async () => {
    let fail = true;
    const pool = new Pool({
      max: 1,
      create: async () => {
        if (fail) throw new Error("no route");
        return "ok";
      },
    });
    await assert.rejects(
      pool.use(async () => {}),
      /no route/,
    );
    fail = false;
    assert.equal(await pool.use(async (r) => r), "ok");
  });

  it("acquire with a timeout names the holder", async () => {
    const pool = new Pool({ name: "tiny", max: 1, create: () => ({}) });
    const gate = deferred();
    const holding = pool.use(() => gate.promise);
    await new Promise((r) => setImmediate(r));
    await assert.rejects(pool.acquire({ timeout: 5 }), (e: unknown) => e instanceof TimeoutError && /pool "tiny"/.test(e.message));
    gate.resolve();
    await holding;
  });

  describe("Pool.guard", () => {
    it("puts an existing pool under detection: acquire/release pass through, max is enforced", async () => {
      const out: string[] = [];
      let n = 0;
      const outside = {
        connect: async () => {
          out.push("connect");
          return { id: ++n };
        },
        release: (c: { id: number }, err?: unknown) => {
          out.push(`release ${c.id}${err ? " broken" : ""}`);
        },
      };
      const db = Pool.guard(
        () => outside.connect(),
        (c, err) => outside.release(c, err),
        { max: 1, name: "pg" },
      );
      assert.equal(db.name, "pg");
      assert.equal(await db.use(async (c) => c.id), 1);
      const lease = await db.acquire();
      lease.discard(new Error("bad"));
      assert.deepEqual(out, ["connect", "release 1", "connect", "release 2 broken"]);
      await collecting(async () => {
        await assert.rejects(
          db.use(() => db.use(async () => 0)),
          (e: unknown) => e instanceof DeadlockError && e.kind === "reentrant",
        );
      });
      assert.equal(db.inUse, 0);
    });

    it("rejects bad arguments", () => {
      assert.throws(() => Pool.guard("x" as never, () => {}, { max: 1 }), TypeError);
      assert.throws(() => Pool.guard(() => 1, null as never, { max: 1 }), TypeError);
      assert.throws(
        () =>
          Pool.guard(
            () => 1,
            () => {},
            { max: 0 },
          ),
        RangeError,
      );
      assert.throws(
        () =>
          Pool.guard(
            () => 1,
            () => {},
            undefined as never,
          ),
        TypeError,
      );
    });
  });

  it("rejects bad options", () => {
    assert.throws(() => new Pool(undefined as never), TypeError);
    assert.throws(() => new Pool({ max: 1, create: 5 as never }), TypeError);
    for (const max of [0, -1, 1.5, NaN]) assert.throws(() => new Pool({ max, create: () => 1 }), RangeError, String(max));
  });
});
