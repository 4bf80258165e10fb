import "../sync/with-await-graph.js";
// guardPool on a real PostgreSQL server: the seed's connection-pool deadlock (2.3) is rejected
// at once as pool-exhaustion naming the holders; correct code stays silent.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { DeadlockError, TimeoutError } from "../../src/core/errors.js";
import { guardPool } from "../../src/integrations/pg.js";
import type { GuardedPool } from "../../src/integrations/pg.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { barrier, collecting, deferred } from "../helpers.js";
import { pgForTests } from "./pg-helper.js";

const pgt = await pgForTests();

describe("guardPool (node-postgres, real server)", { skip: pgt.skip }, () => {
  const pools: pg.Pool[] = [];
  const makePool = (max: number, extra: pg.PoolConfig = {}): GuardedPool<pg.Pool> => {
    const raw = new pg.Pool({ connectionString: pgt.server!.url, max, ...extra });
    pools.push(raw);
    return guardPool(raw, { name: "db", captureSites: true });
  };
  after(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await pgt.stop();
  });

  it("seed 2.3: every holder asks the pool again → pool-exhaustion at once, naming each holder and where it acquired", async () => {
    const N = 3;
    const pool = makePool(N);
    const arrive = barrier(N);
    const tracker = new TaskTracker({ name: "requests" });
    // the seed's process_user: holds a client, then calls update_stats, which asks the pool again
    const updateStats = (userId: number) => pool.query("select $1::int as id", [userId]);
    async function processUser(userId: number): Promise<number> {
      return pool.use(async (client) => {
        const { rows } = await client.query<{ id: number }>("select $1::int as id", [userId]);
        await arrive();
        await updateStats(userId);
        return rows[0]!.id;
      });
    }
    const { found } = await collecting(async () => {
      const tasks = Array.from({ length: N }, (_, i) => tracker.spawn(() => processUser(i), { name: `process-user-${i}` }));
      const results = await Promise.allSettled(tasks);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      assert.equal(rejected.length, 1, "exactly one acquire is rejected: the one that closed the deadlock");
      const err = rejected[0]!.reason as DeadlockError;
      assert.ok(err instanceof DeadlockError, String(err));
      assert.equal(err.kind, "pool-exhaustion");
      // the others get the released client and finish
      assert.equal(results.filter((r) => r.status === "fulfilled").length, N - 1);
    });
    const d = found.find((x) => x.rule === "pool-exhaustion" && x.certainty === "proven");
    assert.ok(d, `a proven pool-exhaustion, got ${found.map((x) => `${x.certainty} ${x.rule}`).join(", ")}`);
    assert.match(d.summary, /all 3 permits of pool "db" are held by tasks that each await another permit of it/);
    const holders = d.subjects.filter((s) => s.kind === "task" && s.role?.startsWith("holds"));
    assert.deepEqual(holders.map((h) => h.name).sort(), ["process-user-0", "process-user-1", "process-user-2"]);
    for (const h of holders) assert.match(`${h.site?.file}:${h.site?.line}`, /test\/integrations\/pg\.test\.ts:\d+/, "acquire site in user code");
    assert.match(d.fix, /pass the connection you already hold down/);
    assert.equal(pool.guard.inUse, 0, "every client came back");
  });

  it("the fix (pass the client down) runs the same load silently", async () => {
    const N = 3;
    const pool = makePool(N);
    const arrive = barrier(N);
    const tracker = new TaskTracker();
    const updateStats = (client: pg.PoolClient, userId: number) => client.query("select $1::int as id", [userId]);
    const { found } = await collecting(async () => {
      const tasks = Array.from({ length: N }, (_, i) =>
        tracker.spawn(
          () =>
            pool.use(async (client) => {
              await client.query("select 1");
              await arrive();
              await updateStats(client, i);
            }),
          { name: `fixed-${i}` },
        ),
      );
      await Promise.all(tasks);
    });
    assert.deepEqual(found, []);
  });

  describe("stays silent on correct use", () => {
    it("more concurrent queries than clients: they queue, nothing is reported", async () => {
      const pool = makePool(2);
      const { found } = await collecting(async () => {
        const rows = await Promise.all(Array.from({ length: 10 }, (_, i) => pool.query<{ n: number }>("select $1::int as n", [i])));
        assert.deepEqual(
          rows.map((r) => r.rows[0]!.n),
          [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        );
      });
      assert.deepEqual(found, []);
    });

    it("connect / release by hand, and a query after the release", async () => {
      const pool = makePool(1);
      const { found } = await collecting(async () => {
        await pool.use(async () => {});
        const client = await pool.connect();
        assert.equal(pool.guard.inUse, 1);
        await client.query("select 1");
        client.release();
        assert.equal(pool.guard.inUse, 0);
        await pool.query("select 2");
      });
      assert.deepEqual(found, []);
    });

    it("a task spawned inside use() that queries the pool is its own unit", async () => {
      const pool = makePool(2);
      const tracker = new TaskTracker();
      const { found } = await collecting(async () => {
        await pool.use(async () => {
          const background = tracker.spawn(() => pool.query("select 1"), { name: "background" });
          await background;
        });
      });
      assert.deepEqual(found, []);
    });

    it("nested use of two different pools", async () => {
      const a = makePool(1);
      const b = guardPool(new pg.Pool({ connectionString: pgt.server!.url, max: 1 }), { name: "other" });
      pools.push(b);
      const { found } = await collecting(async () => {
        await a.use(() => b.query("select 1"));
      });
      assert.deepEqual(found, []);
    });
  });

  it("reports a query on the pool while holding a client of it, even when a client was free (once per site)", async () => {
    const pool = makePool(3);
    const tracker = new TaskTracker();
    const { found } = await collecting(async () => {
      for (let i = 0; i < 2; i++) {
        await tracker.spawn(
          () =>
            pool.use(async () => {
              await pool.query("select 1"); // asks again: works now, deadlocks when all 3 do it
            }),
          { name: `handler-${i}` },
        );
      }
    });
    assert.equal(found.length, 1, found.map((d) => d.summary).join("\n"));
    const d: Diagnosis = found[0]!;
    assert.equal(d.rule, "pool-exhaustion");
    assert.equal(d.certainty, "potential");
    assert.match(d.summary, /task "handler-0" holds a client of pool "db" and asks the same pool for another \(pool\.query\(\)\)/);
    assert.match(`${d.site?.file}:${d.site?.line}`, /test\/integrations\/pg\.test\.ts:\d+/);
    assert.match(d.fix, /client\.query/);
  });

  it("also reports pool.connect() and pool.use() nested in a hold", async () => {
    const pool = makePool(3);
    const { found } = await collecting(async () => {
      await pool.use(async () => {
        const c = await pool.connect();
        c.release();
        await pool.use(async () => {});
      });
    });
    assert.deepEqual(
      found.map((d) => `${d.certainty} ${d.rule} ${/\((pool\.\w+\(\))\)/.exec(d.summary)?.[1]}`),
      ["potential pool-exhaustion pool.connect()", "potential pool-exhaustion pool.use()"],
    );
  });

  it("release(err) makes pg destroy the client; the permit comes back", async () => {
    const pool = makePool(1);
    const client = await pool.connect();
    const pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
    client.release(new Error("broken"));
    assert.equal(pool.guard.inUse, 0);
    const again = await pool.connect();
    const pid2 = (await again.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
    again.release();
    assert.notEqual(pid2, pid, "a new connection, the broken one was destroyed");
    assert.throws(() => again.release(), /already been released/);
  });

  it("keeps pg's callback forms of connect and query", async () => {
    const pool = makePool(1);
    const n = await new Promise<number>((resolve, reject) => {
      pool.connect((err, client, done) => {
        if (err || !client) return reject(err ?? new Error("pg gave neither a client nor an error"));
        client.query<{ n: number }>("select 7 as n").then((r) => {
          done();
          resolve(r.rows[0]!.n);
        }, reject);
      });
    });
    assert.equal(n, 7);
    assert.equal(pool.guard.inUse, 0);
    const m = await new Promise<number>((resolve, reject) =>
      (pool.query as (text: string, cb: (err: Error | undefined, r: pg.QueryResult<{ m: number }>) => void) => void)("select 8 as m", (err, r) =>
        err ? reject(err) : resolve(r.rows[0]!.m),
      ),
    );
    assert.equal(m, 8);
  });

  it("connectionTimeoutMillis bounds the wait for a client, and the error says who holds them", async () => {
    const pool = makePool(1, { connectionTimeoutMillis: 50 });
    const tracker = new TaskTracker();
    const gate = deferred();
    const holder = tracker.spawn(() => pool.use(() => gate.promise), { name: "slow-holder" });
    await assert.rejects(pool.query("select 1"), (e: Error) => e instanceof TimeoutError && /held by "slow-holder/.test(e.message));
    gate.resolve();
    await holder;
  });

  it("guarding twice returns the same pool with the same guard", () => {
    const pool = makePool(2);
    const guard = pool.guard;
    assert.equal(guardPool(pool), pool);
    assert.equal(pool.guard, guard);
    assert.equal(guard.max, 2);
  });

  describe("bad input", () => {
    const raw = () => new pg.Pool({ connectionString: "postgresql://127.0.0.1:1/none", max: 1 });
    const cases: Array<[string, () => unknown, RegExp]> = [
      ["pool null", () => guardPool(null as never), /"pool" argument must be an object\. Received null/],
      [
        "pool without connect",
        () => guardPool({} as never),
        /"pool" argument must be a pg\.Pool \(an object with connect\(\) and query\(\)\)\. Received type object|an instance of Object/,
      ],
      ["options.max 0", () => guardPool(raw(), { max: 0 }), /"options\.max" is out of range\. It must be an integer >= 1\. Received type number \(0\)/],
      ["options.name a number", () => guardPool(raw(), { name: 5 as never }), /"options\.name" argument must be of type string/],
      ["options.captureSites a string", () => guardPool(raw(), { captureSites: "yes" as never }), /"options\.captureSites" argument must be of type boolean/],
    ];
    for (const [name, fn, re] of cases)
      it(name, () => assert.throws(fn, (e: Error) => (e instanceof TypeError || e instanceof RangeError ? re.test(e.message) : false)));
    it("use() without a function", async () => {
      const pool = guardPool(raw());
      await assert.rejects(pool.use("x" as never), /"fn" argument must be a function\. Received type string/);
    });
  });
});
