import "../sync/with-await-graph.js";
// pg instrumented at load, on a real PostgreSQL server: pools are guarded and named after their
// variable with no code change, pg's own behaviour (results, errors, FIFO order, its timeout
// error, waitingCount) is the same as without instrumentation, and a 40P01 deadlock between two
// transactions is reported with both sides.
import { describe, it, after, before } from "node:test";
import assert from "node:assert/strict";
import type PgModule from "pg";
import { configure } from "../../src/core/config.js";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { TimeoutError } from "../../src/core/errors.js";
import { installInstrumentations } from "../../src/instrument/index.js";
import type { InstalledInstrumentations } from "../../src/instrument/index.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { pgForTests } from "../integrations/pg-helper.js";

const DEADLOCK_RULES = new Set(["deadlock-reentrant", "deadlock-cycle", "pool-exhaustion", "lock-order-inversion", "database-deadlock"]);
import { barrier, collecting, deferred } from "../tasks/helpers.js";

const pgt = await pgForTests();
after(() => pgt.stop());

/** What a program sees of a pool: every value, error and order it can observe. */
async function transcript(pg: typeof PgModule, url: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const timed = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 30 });
  try {
    const { rows } = await pool.query<{ n: number }>("select $1::int + 1 as n", [41]);
    out.push(["rows", rows]);
    const bad = await pool.query("select * from no_such_table").catch((e: unknown) => e as Error & { code?: string });
    out.push(["error", bad instanceof Error, (bad as { code?: string }).code, (bad as Error).message]);
    out.push(["callback query", await new Promise((resolve) => pool.query("select 'cb' as v", (err, res) => resolve([err, res.rows])))]);
    out.push([
      "callback connect",
      await new Promise((resolve) =>
        pool.connect((err, client, done) => {
          if (err || !client) return resolve(["connect failed", String(err)]);
          client.query("select 2 as two", (qerr, res) => {
            done();
            resolve([qerr, res.rows]);
          });
        }),
      ),
    ]);
    // FIFO: three queries wait for the one client; they run in the order they were made
    const held = await pool.connect();
    const order: number[] = [];
    const waits = [0, 1, 2].map((i) => pool.query("select $1::int as i", [i]).then((r) => order.push((r.rows[0] as { i: number }).i)));
    out.push(["waiting while held", pool.waitingCount, pool.totalCount]);
    held.release();
    await Promise.all(waits);
    out.push(["order", order]);
    // pg's own connection timeout, with its own error
    const holder = await timed.connect();
    const late = await timed.connect().catch((e: unknown) => e as Error);
    out.push(["timeout", late instanceof Error, late instanceof TimeoutError, (late as Error).message]);
    holder.release();
    out.push(["counts after", pool.totalCount, pool.idleCount, pool.waitingCount]);
  } finally {
    await pool.end();
    await timed.end();
  }
  return out;
}

describe("pg instrumented at load (real server)", { skip: pgt.skip }, () => {
  let pg: typeof PgModule;
  let installed: InstalledInstrumentations;
  const url = (): string => pgt.server!.url;
  before(async () => {
    installed = installInstrumentations({ libraries: ["pg"] });
    pg = (await import("pg")).default;
    configure({ mode: "debug" });
  });
  after(() => {
    configure({ mode: "production" });
    installed.uninstall();
  });

  it("a pool made with new pg.Pool() is guarded, named after its variable and line", async () => {
    const ordersDb = new pg.Pool({ connectionString: url(), max: 2 });
    try {
      const guard = (ordersDb as unknown as { guard?: { name: string; max: number } }).guard;
      assert.ok(guard, "the pool was guarded at construction");
      assert.match(guard.name, /^ordersDb \(test\/instrument\/pg\.test\.ts:\d+\)$/);
      assert.equal(guard.max, 2);
    } finally {
      await ordersDb.end();
    }
  });

  it("side by side with pg alone: the same results, errors, order, timeout error and counts", async () => {
    const { result: instrumented, found } = await collecting(() => transcript(pg, url()));
    // a correct program: no deadlock of any kind is reported on it
    assert.deepEqual(
      found.filter((d) => DEADLOCK_RULES.has(d.rule)).map((d) => d.summary),
      [],
    );
    installed.uninstall();
    let plain: unknown[];
    try {
      plain = await transcript(pg, url());
    } finally {
      installed = installInstrumentations({ libraries: ["pg"] });
    }
    assert.deepEqual(instrumented, plain);
    // and the transcript is what pg does, not two equal wrong things
    assert.deepEqual(instrumented[0], ["rows", [{ n: 42 }]]);
    assert.deepEqual(
      instrumented.find((x) => (x as unknown[])[0] === "order"),
      ["order", [0, 1, 2]],
    );
    assert.deepEqual(
      instrumented.find((x) => (x as unknown[])[0] === "waiting while held"),
      ["waiting while held", 3, 1],
    );
    assert.deepEqual(
      instrumented.find((x) => (x as unknown[])[0] === "timeout"),
      ["timeout", true, false, "timeout exceeded when trying to connect"],
    );
  });

  it("a task that holds a bare connect() and asks the pool again is reported on the user's pool, by name", async () => {
    const reportsDb = new pg.Pool({ connectionString: url(), max: 1 });
    configure({ longWaitMs: 20 });
    const reported = deferred<Diagnosis>();
    try {
      const tracker = new TaskTracker();
      const { found } = await collecting(async (found) => {
        const job = tracker.spawn(
          async () => {
            const client = await reportsDb.connect();
            // asks the pool again while holding its only client: waits for itself
            const again = reportsDb.query("select 1");
            const d = await reported.promise;
            client.release(); // lets the second query through, so the test ends
            await again;
            return d;
          },
          { name: "monthly-report" },
        );
        const poll = setInterval(() => {
          const d = found.find((x) => x.subjects.some((s) => s.kind === "lock" && /^reportsDb \(/.test(s.name)) || /reportsDb \(/.test(x.summary));
          if (d) {
            clearInterval(poll);
            reported.resolve(d);
          }
        }, 5);
        return job;
      });
      const d = found.find((x) => /reportsDb \(test\/instrument\/pg\.test\.ts:\d+\)/.test(x.summary));
      assert.ok(d, `a report naming the user's pool, got ${found.map((x) => x.summary).join(" | ")}`);
      assert.match(d.summary, /monthly-report/);
    } finally {
      configure({ longWaitMs: 10_000 });
      await reportsDb.end();
    }
  });
});

describe("PostgreSQL's own deadlock (40P01) through instrumented pg (real server)", { skip: pgt.skip }, () => {
  let pg: typeof PgModule;
  let installed: InstalledInstrumentations;
  let pool: PgModule.Pool;
  before(async () => {
    installed = installInstrumentations({ libraries: ["pg"] });
    pg = (await import("pg")).default;
    // the server looks for deadlocks after deadlock_timeout (1 s by default)
    pool = new pg.Pool({ connectionString: pgt.server!.url, max: 4, options: "-c deadlock_timeout=50ms" });
    await pool.query("create table if not exists accounts (id int primary key, balance int not null)");
  });
  after(async () => {
    await pool.end();
    installed.uninstall();
  });

  /**
   * Concurrent transfers that lock two rows each. With `meet`, each waits at a barrier once it
   * holds its first row (so opposite orders surely deadlock); in one order the second would
   * block on the first row before the barrier, so the fix runs without it.
   */
  async function transfers(pairs: ReadonlyArray<readonly [number, number]>, meet: boolean): Promise<PromiseSettledResult<void>[]> {
    await pool.query("delete from accounts");
    await pool.query("insert into accounts values (1, 100), (2, 100)");
    const arrive = barrier(pairs.length);
    const tracker = new TaskTracker();
    async function transfer(from: number, to: number): Promise<void> {
      const client = await pool.connect();
      try {
        await client.query("begin");
        await client.query("update accounts set balance = balance - 1 where id = $1", [from]);
        if (meet) await arrive();
        await client.query("update accounts set balance = balance + 1 where id = $1", [to]);
        await client.query("commit");
      } catch (err) {
        await client.query("rollback");
        throw err;
      } finally {
        client.release();
      }
    }
    return Promise.allSettled(pairs.map(([a, b]) => tracker.spawn(() => transfer(a, b), { name: `transfer ${a}->${b}` })));
  }

  it("two transfers taking the rows in opposite orders: proven database-deadlock with both tasks and their query sites", async () => {
    const { result, found } = await collecting(() =>
      transfers(
        [
          [1, 2],
          [2, 1],
        ],
        true,
      ),
    );
    const failed = result.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(failed.length, 1, "the server aborts exactly one of them");
    const err = failed[0]!.reason as PgModule.DatabaseError & { diagnosis?: Diagnosis };
    // pg's error, as pg made it
    assert.ok(err instanceof pg.DatabaseError);
    assert.equal(err.code, "40P01");
    assert.equal(err.message, "deadlock detected");
    assert.equal(Object.keys(err).includes("diagnosis"), false, "the diagnosis is not an enumerable field of pg's error");
    const d = found.find((x) => x.rule === "database-deadlock");
    assert.ok(d, `a database-deadlock, got ${found.map((x) => x.rule).join(", ")}`);
    assert.equal(err.diagnosis, d);
    assert.equal(d.certainty, "proven");
    assert.match(
      d.summary,
      /PostgreSQL detected a deadlock between task "transfer (1->2|2->1)" \(backend \d+\) and task "transfer (1->2|2->1)" \(backend \d+\)/,
    );
    const tasks = d.subjects
      .filter((s) => s.kind === "task")
      .map((s) => s.name)
      .sort();
    assert.deepEqual(tasks, ["transfer 1->2", "transfer 2->1"]);
    for (const s of d.subjects.filter((x) => x.kind === "task")) {
      assert.match(`${s.site?.file}:${s.site?.line}`, /test\/instrument\/pg\.test\.ts:\d+$/, "each side's query site is in the user's code");
      assert.match(s.detail ?? "", /update accounts set balance = balance \+ 1/, "each side waits in its second update");
    }
    assert.ok(
      d.subjects.some((s) => s.kind === "code" && /balance - 1/.test(s.name)),
      "the earlier update that took the lock is listed",
    );
    assert.equal(d.steps?.length, 2, "the server's two waits, in the program's terms");
    for (const step of d.steps ?? [])
      assert.match(
        step.text,
        /^backend \d+ \(task "transfer .+" at test\/instrument\/pg\.test\.ts:\d+:\d+: update accounts .+\) waits for .+, held by backend \d+ \(task "transfer/,
      );
    assert.match(d.fix, /take the rows in one order/);
  });

  it("the fix, the same transfers taking the rows in one order: both commit, no finding", async () => {
    const { result, found } = await collecting(() =>
      transfers(
        [
          [1, 2],
          [1, 2],
        ],
        false,
      ),
    );
    assert.deepEqual(
      result.map((r) => r.status),
      ["fulfilled", "fulfilled"],
    );
    assert.deepEqual(
      found.filter((x) => x.rule === "database-deadlock"),
      [],
    );
    const { rows } = await pool.query<{ id: number; balance: number }>("select id, balance from accounts order by id");
    assert.deepEqual(rows, [
      { id: 1, balance: 98 },
      { id: 2, balance: 102 },
    ]);
  });

  it("other database errors are left alone: no finding, the same error", async () => {
    const { result, found } = await collecting(() =>
      pool.query("insert into accounts values (1, 0), (1, 0)").then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      ),
    );
    assert.ok(result instanceof Error);
    assert.equal(result.code, "23505");
    assert.equal(Object.hasOwn(result, "diagnosis"), false);
    assert.deepEqual(found, []);
  });
});
