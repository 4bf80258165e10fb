import "../sync/with-await-graph.js";
// generic-pool instrumented at load: the user's own pool, unchanged, reports a holder that asks
// it again (re-entrance, exhaustion) under the variable's name, and behaves as generic-pool
// alone does, side by side.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { configure } from "../../src/core/config.js";
import { DeadlockError } from "../../src/core/errors.js";
import { installInstrumentations } from "../../src/instrument/index.js";
import type { InstalledInstrumentations } from "../../src/instrument/index.js";

const DEADLOCK_RULES = new Set(["deadlock-reentrant", "deadlock-cycle", "pool-exhaustion", "lock-order-inversion", "database-deadlock"]);
import { barrier, collecting, deferred } from "../tasks/helpers.js";

type GenericPool = typeof import("generic-pool");
const require = createRequire(import.meta.url);

function factory(log: unknown[]) {
  let n = 0;
  return {
    create: async () => ({ id: ++n }),
    destroy: async (r: { id: number }) => {
      log.push(["destroyed", r.id]);
    },
  };
}

/** What a program sees of generic-pool: order, counts, results, its errors. */
async function transcript(gp: GenericPool): Promise<unknown[]> {
  const log: unknown[] = [];
  const pool = gp.createPool(factory(log), { max: 2 });
  const a = await pool.acquire();
  const b = await pool.acquire();
  const order: number[] = [];
  const waits = [0, 1, 2].map((i) => pool.acquire().then((r) => (order.push(i), r)));
  log.push(["pending", pool.pending, pool.borrowed, pool.size]);
  await pool.release(a);
  await pool.release(b);
  const got = await Promise.all(waits.slice(0, 2));
  await pool.release(got[0]!);
  const third = await waits[2]!;
  log.push(["order", order]);
  await pool.release(got[1]!);
  await pool.release(third);
  log.push(["use", await pool.use(async (r) => `used ${r.id > 0}`)]);
  log.push(["use fails", await pool.use(async () => Promise.reject(new Error("job failed"))).catch((e: unknown) => (e as Error).message)]);
  log.push(["release unknown", await pool.release({ id: -1 }).catch((e: unknown) => (e as Error).message)]);
  log.push(["after", pool.pending, pool.borrowed]);
  // acquireTimeoutMillis and maxWaitingClients
  const timed = gp.createPool(factory(log), { max: 1, acquireTimeoutMillis: 20 });
  const held = await timed.acquire();
  const late = (await timed.acquire().then(
    () => new Error("acquired"),
    (e: unknown) => e,
  )) as Error;
  log.push(["timeout", late.name, late.message, late.constructor.name]);
  await timed.release(held);
  const capped = gp.createPool(factory(log), { max: 1, maxWaitingClients: 1 });
  const c1 = await capped.acquire();
  const queued = capped.acquire();
  log.push(["max waiting", await capped.acquire().catch((e: unknown) => (e as Error).message)]);
  await capped.release(c1);
  await capped.release(await queued);
  // drain
  await pool.drain();
  log.push(["draining", await pool.acquire().catch((e: unknown) => (e as Error).message)]);
  await pool.clear();
  await timed.drain();
  await timed.clear();
  await capped.drain();
  await capped.clear();
  return log;
}

describe("generic-pool instrumented at load", () => {
  let gp: GenericPool;
  let installed: InstalledInstrumentations;
  before(() => {
    installed = installInstrumentations({ libraries: ["generic-pool"] });
    gp = require("generic-pool") as GenericPool;
    configure({ mode: "debug" });
  });
  after(() => {
    configure({ mode: "production" });
    installed.uninstall();
  });

  it("side by side with generic-pool alone: the same order, counts, results and errors", async () => {
    const { result: instrumented, found } = await collecting(() => transcript(gp));
    // a correct program: no deadlock of any kind is reported on it
    assert.deepEqual(
      found.filter((d) => DEADLOCK_RULES.has(d.rule)).map((d) => d.summary),
      [],
    );
    installed.uninstall();
    let plain: unknown[];
    try {
      plain = await transcript(gp);
    } finally {
      installed = installInstrumentations({ libraries: ["generic-pool"] });
    }
    assert.deepEqual(instrumented, plain);
    assert.deepEqual(instrumented[0], ["pending", 3, 2, 2]);
    assert.deepEqual(
      instrumented.find((x) => Array.isArray(x) && x[0] === "timeout"),
      ["timeout", "TimeoutError", "ResourceRequest timed out", "TimeoutError"],
    );
  });

  it("use() inside use() of a pool of one: proven deadlock-reentrant, named after the variable", async () => {
    const workers = gp.createPool({ create: async () => ({}), destroy: async () => {} }, { max: 1 });
    const { result, found } = await collecting(() => workers.use(() => workers.use(async () => "inner")).catch((e: unknown) => e));
    assert.ok(result instanceof DeadlockError, String(result));
    const d = found.find((x) => x.certainty === "proven");
    assert.ok(d);
    assert.match(d.summary, /workers \(test\/instrument\/generic-pool\.test\.ts:\d+\)/);
    await workers.drain();
    await workers.clear();
  });

  it("every resource held by a use() that asks the pool again: pool-exhaustion", async () => {
    const browsers = gp.createPool({ create: async () => ({}), destroy: async () => {} }, { max: 2 });
    const both = barrier(2);
    const { result, found } = await collecting(() =>
      Promise.allSettled(
        [0, 1].map((i) =>
          browsers.use(async () => {
            await both();
            return browsers.use(async () => i);
          }),
        ),
      ),
    );
    assert.equal(result.filter((r) => r.status === "rejected").length, 1);
    const d = found.find((x) => x.rule === "pool-exhaustion" && x.certainty === "proven");
    assert.ok(d, found.map((x) => `${x.certainty} ${x.rule}`).join(", "));
    assert.match(d.summary, /browsers \(test\/instrument\/generic-pool\.test\.ts:\d+\)/);
    await browsers.drain();
    await browsers.clear();
  });

  it("correct use is silent: many users through a small pool, acquire/release by hand", async () => {
    const conns = gp.createPool({ create: async () => ({}), destroy: async () => {} }, { max: 2 });
    const { result, found } = await collecting(async () => {
      const out = await Promise.all(Array.from({ length: 6 }, (_, i) => conns.use(async () => i)));
      const r = await conns.acquire();
      const other = deferred<number>();
      void conns.use(async () => other.resolve(7));
      out.push(await other.promise);
      await conns.release(r);
      return out;
    });
    assert.deepEqual(result, [0, 1, 2, 3, 4, 5, 7]);
    assert.deepEqual(
      found.map((x) => x.rule),
      [],
    );
    await conns.drain();
    await conns.clear();
  });
});
