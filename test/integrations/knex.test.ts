import "../sync/with-await-graph.js";
// guardKnex on a real PostgreSQL server: a query on knex instead of trx inside as many
// transactions as the pool has connections is a proven pool-exhaustion at once; correct use is silent.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import knexFactory from "knex";
import type { Knex } from "knex";
import { TimeoutError } from "../../src/core/errors.js";
import { guardKnex } from "../../src/integrations/knex.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { barrier, collecting, deferred } from "../helpers.js";
import { pgForTests } from "./pg-helper.js";

const pgt = await pgForTests();

describe("guardKnex (knex + pg, real server)", { skip: pgt.skip }, () => {
  const instances: Knex[] = [];
  const make = (max: number, extra: Partial<Knex.Config> = {}) => {
    const k = knexFactory({ client: "pg", connection: pgt.server!.url, pool: { min: 0, max }, ...extra });
    instances.push(k);
    return guardKnex(k, { name: "db", captureSites: true });
  };
  after(async () => {
    await Promise.all(instances.map((k) => k.destroy()));
    await pgt.stop();
  });

  it("a query on knex instead of trx, in every transaction at once → pool-exhaustion named at once; knex's acquireConnectionTimeout ends it", async () => {
    const N = 3;
    // every knex acquire has a time limit (60 s by default) and knex's own promises stand between
    // the transaction and its query: nothing is proven or thrown as a deadlock. The query on db
    // is reported at once as a potential pool exhaustion, and the limit's TimeoutError says what
    // the knot looks like.
    const db = make(N, { acquireConnectionTimeout: 300 });
    const arrive = barrier(N);
    const tracker = new TaskTracker();
    const { found } = await collecting(async () => {
      const results = await Promise.allSettled(
        Array.from({ length: N }, (_, i) =>
          tracker.spawn(
            () =>
              db.transaction(async (trx) => {
                await trx.raw("select ?::int as i", [i]);
                await arrive();
                await db.raw("select 1"); // the bug: db, not trx
              }),
            { name: `tx-${i}` },
          ),
        ),
      );
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      assert.ok(rejected.length >= 1, JSON.stringify(results.map((r) => (r.status === "rejected" ? String(r.reason) : r.status))));
      for (const r of rejected) {
        assert.ok(r.reason instanceof TimeoutError, String(r.reason));
        assert.match((r.reason as Error).message, /looks like pool exhaustion|held by "tx-/);
      }
    });
    assert.deepEqual(
      found.filter((x) => x.certainty === "proven"),
      [],
      "never proven: the limit ends it",
    );
    const d = found.find((x) => x.rule === "pool-exhaustion" && x.certainty === "potential");
    assert.ok(d, found.map((x) => `${x.certainty} ${x.rule}: ${x.summary}`).join("\n"));
    assert.match(d.summary, /a query on the knex instance inside a transaction/);
    assert.equal(db.guard.inUse, 0);
  });

  it("the same transactions on trx run silently", async () => {
    const N = 3;
    const db = make(N);
    const arrive = barrier(N);
    const { found } = await collecting(async () => {
      await Promise.all(
        Array.from({ length: N }, (_, i) =>
          db.transaction(async (trx) => {
            await trx.raw("select ?::int as i", [i]);
            await arrive();
            await trx.raw("select 1");
          }),
        ),
      );
    });
    assert.deepEqual(found, []);
  });

  it("stays silent on plain queries, more than the pool at once, and a transaction without a handler", async () => {
    const db = make(2);
    const { found } = await collecting(async () => {
      const rows = await Promise.all(Array.from({ length: 8 }, (_, i) => db.raw("select ?::int as n", [i])));
      assert.equal(rows.length, 8);
      const trx = await db.transaction();
      await trx.raw("select 1");
      await trx.commit();
      await trx.executionPromise;
      assert.equal(db.guard.inUse, 0);
    });
    assert.deepEqual(found, []);
  });

  it("reports a query on knex inside a transaction even when a connection was free, naming the transaction", async () => {
    const db = make(3);
    const { found } = await collecting(async () => {
      await db.transaction(async (trx) => {
        await trx.raw("select 1");
        await db.raw("select 2"); // works now; deadlocks when all 3 transactions do it
      });
    });
    assert.equal(found.length, 1);
    assert.equal(found[0]!.certainty, "potential");
    assert.equal(found[0]!.rule, "pool-exhaustion");
    const holder = found[0]!.subjects.find((s) => s.kind === "task");
    assert.match(`${holder?.site?.file}:${holder?.site?.line}`, /test\/integrations\/knex\.test\.ts:\d+/, "where the transaction took its connection");
    assert.match(found[0]!.fix, /run every query on trx/);
  });

  it("commits and rolls back through the guarded transaction", async () => {
    const db = make(2);
    await db.schema.dropTableIfExists("guard_knex_t");
    await db.schema.createTable("guard_knex_t", (t) => t.integer("n"));
    await db.transaction(async (trx) => trx("guard_knex_t").insert({ n: 1 }));
    await assert.rejects(
      db.transaction(async (trx) => {
        await trx("guard_knex_t").insert({ n: 2 });
        throw new Error("roll back");
      }),
      /roll back/,
    );
    const rows = await db("guard_knex_t").select("n");
    assert.deepEqual(rows, [{ n: 1 }]);
    await db.schema.dropTable("guard_knex_t");
  });

  it("acquireConnectionTimeout bounds the wait, with a TimeoutError naming the holder", async () => {
    const db = make(1, { acquireConnectionTimeout: 50 });
    const gate = deferred();
    const tracker = new TaskTracker();
    const holder = tracker.spawn(() => db.transaction(() => gate.promise), { name: "slow-tx" });
    await assert.rejects(db.raw("select 1"), (e: Error) => e instanceof TimeoutError && /held by "slow-tx/.test(e.message));
    gate.resolve();
    await holder;
  });

  describe("bad input", () => {
    it("not a knex instance", () => assert.throws(() => guardKnex({} as never), /"knex" argument must be a knex instance\. Received an instance of Object/));
    it("a knex without a client", () =>
      assert.throws(() => guardKnex({ transaction() {}, client: null } as never), /"knex\.client" argument must be a knex client/));
    it("options.max 0", () => assert.throws(() => guardKnex(knexFactory({ client: "pg" }), { max: 0 }), /"options\.max" is out of range/));
    it("options.name a number", () =>
      assert.throws(() => guardKnex(knexFactory({ client: "pg" }), { name: 1 as never }), /"options\.name" argument must be of type string/));
  });
});
