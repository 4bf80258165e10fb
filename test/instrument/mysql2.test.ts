import "../sync/with-await-graph.js";
// mysql2 instrumented at load, on a real MariaDB server started by the test: pools are guarded
// and named after their variable, mysql2's own behaviour (promise and callback APIs) is the same
// as without instrumentation, and an ER_LOCK_DEADLOCK between two transactions is reported.
import { describe, it, after, before } from "node:test";
import assert from "node:assert/strict";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { installInstrumentations } from "../../src/instrument/index.js";
import type { InstalledInstrumentations } from "../../src/instrument/index.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { mysqlForTests } from "../integrations/mysql-helper.js";

const DEADLOCK_RULES = new Set(["deadlock-reentrant", "deadlock-cycle", "pool-exhaustion", "lock-order-inversion", "database-deadlock"]);
import { barrier, collecting } from "../tasks/helpers.js";

const db = await mysqlForTests();
after(() => db.stop());

type Mysql = typeof import("mysql2/promise");
type MysqlCb = typeof import("mysql2");

/** What a program sees of mysql2 pools, through both APIs. */
async function transcript(mysql: Mysql, mysqlCb: MysqlCb, url: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const pool = mysql.createPool({ uri: url, connectionLimit: 1 });
  const strict = mysql.createPool({ uri: url, connectionLimit: 1, waitForConnections: false });
  const limited = mysql.createPool({ uri: url, connectionLimit: 1, queueLimit: 1 });
  const cbPool = mysqlCb.createPool({ uri: url, connectionLimit: 1 });
  try {
    const [rows] = await pool.query("select 1 + ? as n", [41]);
    out.push(["rows", rows]);
    const bad = (await pool.query("select * from no_such_table").then(
      () => ({}),
      (e: unknown) => e,
    )) as { code?: string; errno?: number };
    out.push(["error", bad.code, bad.errno]);
    // FIFO: three queries wait for the one connection
    const held = await pool.getConnection();
    const order: number[] = [];
    const waits = [0, 1, 2].map((i) => pool.query("select ? as i", [i]).then(([r]) => order.push((r as Array<{ i: number }>)[0]!.i)));
    held.release();
    await Promise.all(waits);
    out.push(["order", order]);
    // waitForConnections: false and queueLimit keep mysql2's errors
    const s1 = await strict.getConnection();
    out.push([
      "no wait",
      await strict.getConnection().then(
        () => "got one",
        (e: unknown) => (e as Error).message,
      ),
    ]);
    s1.release();
    const l1 = await limited.getConnection();
    const queued = limited.query("select 1");
    out.push([
      "queue limit",
      await limited.getConnection().then(
        () => "got one",
        (e: unknown) => (e as Error).message,
      ),
    ]);
    l1.release();
    await queued;
    // a destroyed connection frees its slot
    const doomed = await pool.getConnection();
    doomed.destroy();
    const [after] = await pool.query("select 'after destroy' as v");
    out.push(["after destroy", after]);
    // the callback API
    out.push([
      "callback",
      await new Promise((resolve) =>
        cbPool.getConnection((err, conn) => {
          if (err) return resolve(String(err));
          conn.query("select 2 as two", (qerr, res) => {
            conn.release();
            resolve([qerr, res]);
          });
        }),
      ),
    ]);
    out.push(["callback pool.query", await new Promise((resolve) => cbPool.query("select 3 as three", (err, res) => resolve([err, res])))]);
  } finally {
    await pool.end();
    await strict.end();
    await limited.end();
    await new Promise((r) => cbPool.end(r));
  }
  return out;
}

describe("mysql2 instrumented at load (real MariaDB)", { skip: db.skip }, () => {
  let mysql: Mysql;
  let mysqlCb: MysqlCb;
  let installed: InstalledInstrumentations;
  before(async () => {
    installed = installInstrumentations({ libraries: ["mysql2"] });
    mysql = await import("mysql2/promise");
    mysqlCb = (await import("mysql2")).default;
  });
  after(() => installed.uninstall());

  it("a pool made with createPool() is guarded, named after its variable and line", async () => {
    const ordersDb = mysql.createPool({ uri: db.url!, connectionLimit: 3 });
    try {
      const guard = (ordersDb.pool as unknown as { guard?: { name: string; max: number } }).guard;
      assert.ok(guard);
      assert.match(guard.name, /^ordersDb \(test\/instrument\/mysql2\.test\.ts:\d+\)$/);
      assert.equal(guard.max, 3);
    } finally {
      await ordersDb.end();
    }
  });

  it("side by side with mysql2 alone: the same results, errors, order, limits and callbacks", async () => {
    const { result: instrumented, found } = await collecting(() => transcript(mysql, mysqlCb, db.url!));
    // a correct program: no deadlock of any kind is reported on it
    assert.deepEqual(
      found.filter((d) => DEADLOCK_RULES.has(d.rule)).map((d) => d.summary),
      [],
    );
    installed.uninstall();
    let plain: unknown[];
    try {
      plain = await transcript(mysql, mysqlCb, db.url!);
    } finally {
      installed = installInstrumentations({ libraries: ["mysql2"] });
    }
    assert.deepEqual(JSON.parse(JSON.stringify(instrumented)), JSON.parse(JSON.stringify(plain)));
    assert.deepEqual(instrumented[0], ["rows", [{ n: 42 }]]);
    assert.deepEqual(instrumented[2], ["order", [0, 1, 2]]);
    assert.deepEqual(instrumented[3], ["no wait", "No connections available."]);
    assert.deepEqual(instrumented[4], ["queue limit", "Queue limit reached."]);
  });

  describe("MariaDB's own deadlock (ER_LOCK_DEADLOCK)", () => {
    let pool: ReturnType<Mysql["createPool"]>;
    before(async () => {
      pool = mysql.createPool({ uri: db.url!, connectionLimit: 4 });
      await pool.query("create database if not exists bank");
      await pool.query("create table if not exists bank.accounts (id int primary key, balance int not null) engine=InnoDB");
    });
    after(() => pool.end());

    async function transfers(pairs: ReadonlyArray<readonly [number, number]>, meet: boolean): Promise<PromiseSettledResult<void>[]> {
      await pool.query("delete from bank.accounts");
      await pool.query("insert into bank.accounts values (1, 100), (2, 100)");
      const arrive = barrier(pairs.length);
      const tracker = new TaskTracker();
      async function transfer(from: number, to: number): Promise<void> {
        const conn = await pool.getConnection();
        try {
          await conn.beginTransaction();
          await conn.query("update bank.accounts set balance = balance - 1 where id = ?", [from]);
          if (meet) await arrive();
          await conn.query("update bank.accounts set balance = balance + 1 where id = ?", [to]);
          await conn.commit();
        } catch (err) {
          await conn.rollback();
          throw err;
        } finally {
          conn.release();
        }
      }
      return Promise.allSettled(pairs.map(([a, b]) => tracker.spawn(() => transfer(a, b), { name: `transfer ${a}->${b}` })));
    }

    it("two transfers in opposite orders: proven database-deadlock, the victim and the likely other side", async () => {
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
      assert.equal(failed.length, 1);
      const err = failed[0]!.reason as Error & { code?: string; errno?: number; diagnosis?: Diagnosis };
      assert.equal(err.code, "ER_LOCK_DEADLOCK");
      assert.equal(err.errno, 1213);
      assert.equal(Object.keys(err).includes("diagnosis"), false);
      const d = found.find((x) => x.rule === "database-deadlock");
      assert.ok(d, found.map((x) => x.rule).join(", "));
      assert.equal(err.diagnosis, d);
      assert.equal(d.certainty, "proven");
      assert.match(
        d.summary,
        /^MySQL detected a deadlock between task "transfer (1->2|2->1)" \(thread \d+\) and likely task "transfer (1->2|2->1)" \(thread \d+\)/,
      );
      const tasks = d.subjects.filter((s) => s.kind === "task");
      assert.deepEqual(tasks.map((s) => s.name).sort(), ["transfer 1->2", "transfer 2->1"]);
      for (const s of tasks) assert.match(`${s.site?.file}:${s.site?.line}`, /test\/instrument\/mysql2\.test\.ts:\d+$/);
      assert.match(d.fix, /take the rows in one order/);
    });

    it("the same transfers in one order: both commit, no finding", async () => {
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
      const [rows] = await pool.query("select id, balance from bank.accounts order by id");
      assert.deepEqual(rows, [
        { id: 1, balance: 98 },
        { id: 2, balance: 102 },
      ]);
    });
  });
});
