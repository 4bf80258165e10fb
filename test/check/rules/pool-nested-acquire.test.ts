import { poolNestedAcquire } from "../../../src/check/rules/pool-nested-acquire.js";
import { ruleTester } from "../rule-tester.js";
import { stubs } from "../stubs.js";

const pg = stubs("pg");
const knex = stubs("knex");

ruleTester(poolNestedAcquire, {
  valid: [
    {
      name: "the seed's fix: the open client is passed down",
      files: pg,
      code: `import { Pool, type PoolClient } from "pg";
async function updateStats(client: PoolClient, userId: number) {
  await client.query("update stats set n = n + 1 where user_id = $1", [userId]);
}
export async function processUser(userId: number, pool: Pool) {
  const client = await pool.connect();
  try {
    await client.query("select * from users where id = $1", [userId]);
    await updateStats(client, userId);
  } finally {
    client.release();
  }
}`,
    },
    {
      name: "the client is released before the pool is queried",
      files: pg,
      code: `import { Pool } from "pg";
const pool = new Pool({ max: 1 });
export async function run() {
  const client = await pool.connect();
  try { await client.query("begin"); await client.query("commit"); } finally { client.release(); }
  await pool.query("select 1");
}`,
    },
    {
      name: "two different pools",
      files: pg,
      code: `import { Pool } from "pg";
const primary = new Pool({ max: 1 });
const replica = new Pool({ max: 1 });
export async function copy() {
  const client = await primary.connect();
  try {
    const { rows } = await replica.query("select * from t");
    await client.query("insert into t select * from json_populate_recordset(null::t, $1)", [JSON.stringify(rows)]);
  } finally {
    client.release();
  }
}`,
    },
    {
      name: "knex: every query inside the transaction uses trx",
      files: knex,
      code: `import knex, { type Knex } from "knex";
const db = knex({ client: "pg" });
async function audit(trx: Knex.Transaction, id: number) {
  await trx("audit").insert({ id });
}
export async function rename(id: number, name: string) {
  await db.transaction(async (trx) => {
    await trx("users").where({ id }).update({ name });
    await db("logins").where({ id }).del().transacting(trx);
    await audit(trx, id);
  });
}`,
    },
    {
      name: "a query that is not waited for while the client is held",
      files: pg,
      code: `import { Pool } from "pg";
const pool = new Pool();
export async function touch(id: number) {
  const client = await pool.connect();
  try {
    pool.query("update hits set n = n + 1 where id = $1", [id]).catch(() => {});
    await client.query("select 1");
  } finally {
    client.release();
  }
}`,
    },
    {
      name: "the pool queried before a client is taken",
      files: stubs("mysql2"),
      code: `import { createPool } from "mysql2/promise";
const pool = createPool({ connectionLimit: 2 });
export async function move(id: number) {
  await pool.query("select 1");
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    await conn.execute("update a set x = 1 where id = ?", [id]);
    await conn.commit();
  } finally {
    conn.release();
  }
}`,
    },
    {
      name: "generic-pool: the resource is given back before the next acquire",
      files: stubs("generic-pool"),
      code: `import { createPool } from "generic-pool";
const pool = createPool({ create: async () => ({ id: 1 }), destroy: async () => {} }, { max: 1 });
export async function twice() {
  const r = await pool.acquire();
  try { console.log(r.id); } finally { await pool.release(r); }
  await pool.use(async (s) => s.id);
}`,
    },
    {
      name: "pg: a second pool for a nested unit of work, sized for it",
      files: pg,
      code: `import { Pool } from "pg";
const jobs = new Pool({ max: 4 });
const audit = new Pool({ max: 4 });
async function record(id: number) { await audit.query("insert into audit values ($1)", [id]); }
export async function run(id: number) {
  const client = await jobs.connect();
  try { await client.query("update jobs set done = true where id = $1", [id]); await record(id); } finally { client.release(); }
}`,
    },
    {
      name: "a transaction helper whose callback uses the client it is given",
      files: pg,
      code: `import { Pool, type PoolClient } from "pg";
export class Repo {
  constructor(private readonly pool: Pool) {}
  async withTx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try { await client.query("begin"); const r = await fn(client); await client.query("commit"); return r; } finally { client.release(); }
  }
  async rename(id: number, name: string) {
    await this.withTx(async (client) => client.query("update users set name = $2 where id = $1", [id, name]));
    return this.pool.query("select * from users where id = $1", [id]);
  }
}`,
    },
    {
      name: "a pg pool under guardPool: the client is passed down",
      files: { ...pg, ...stubs("asyncdoctor") },
      code: `import { Pool, type PoolClient } from "pg";
import { guardPool } from "asyncdoctor";
const pool = guardPool(new Pool({ max: 3 }));
async function fixedUpdateStats(client: PoolClient, userId: number) { await client.query("select $1::int", [userId]); }
export async function fixedProcessUser(userId: number) {
  return pool.use(async (client) => {
    await client.query("select 1");
    await fixedUpdateStats(client, userId);
  });
}`,
    },
    {
      name: "the program's own pool abstraction is not guessed without the pools option",
      files: pg,
      code: `import type { PoolClient, QueryResult } from "pg";
export interface Db {
  use<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
  query(text: string, values?: unknown[]): Promise<QueryResult>;
}
async function bugUpdateStats(db: Db, userId: number) {
  await db.query("select $1::int", [userId]);
}
export async function bugProcessUser(db: Db, userId: number) {
  return db.use(async (client) => {
    await client.query("select 1");
    await bugUpdateStats(db, userId);
  });
}`,
    },
    {
      name: "asyncdoctor Pool: the resource is handed down",
      files: stubs("asyncdoctor"),
      code: `import { Pool } from "asyncdoctor";
interface Conn { send(s: string): Promise<void> }
const conns = new Pool<Conn>({ create: () => ({ send: async () => {} }), max: 2 });
async function notify(conn: Conn) { await conn.send("hi"); }
export async function greet() { await conns.use(async (conn) => { await notify(conn); }); }`,
    },
    {
      name: "knex: a query on db inside db.transaction is transaction-client-misuse's finding, not this rule's",
      files: knex,
      code: `import knex from "knex";
const db = knex({ client: "pg" });
export async function bump() {
  return db.transaction(async (trx) => {
    await trx("counters").increment("n");
    return db.raw("select count(*) from counters");
  });
}`,
    },
    {
      name: "knex: the transaction passed down two calls, and queried there (botpress#2885's fix)",
      files: knex,
      code: `import knex, { type Knex } from "knex";
const db = knex({ client: "pg" });
async function insert(trx: Knex.Transaction, row: Record<string, unknown>) {
  return trx("sessions").insert(row);
}
async function getOrCreate(t: Knex.Transaction, id: string) {
  const found = await t("sessions").where({ id }).first();
  return found ?? insert(t, { id });
}
export async function main() {
  await db.transaction(async (trx) => { await getOrCreate(trx, "a"); });
}`,
    },
  ],
  invalid: [
    {
      name: "knex: the transaction passed down, then a helper that opens its own (botpress#2885)",
      files: knex,
      code: `import knex, { type Knex } from "knex";
const db = knex({ client: "pg" });
async function insertAndRetrieve(row: Record<string, unknown>) {
  return db.transaction(async (trx) => trx("sessions").insert(row));
}
async function getOrCreate(t: Knex.Transaction, id: string) {
  const found = await t("sessions").where({ id }).first();
  if (found) return found;
  return insertAndRetrieve({ id });
}
export async function main() {
  await db.transaction(async (trx) => { await getOrCreate(trx, "a"); });
}`,
      findings: [{ line: 9, fix: /pass the open `trx` down to insertAndRetrieve\(\) instead of `db`/ }],
    },
    {
      name: "the seed's 2.3: the holder passes the pool to a function that connects again",
      files: pg,
      code: `import { Pool } from "pg";
async function updateStats(pool: Pool, userId: number) {
  const client = await pool.connect();
  try { await client.query("update stats set n = n + 1 where user_id = $1", [userId]); } finally { client.release(); }
}
export async function processUser(userId: number, pool: Pool) {
  const client = await pool.connect();
  try {
    await client.query("select * from users where id = $1", [userId]);
    await updateStats(pool, userId);
  } finally {
    client.release();
  }
}`,
      findings: [
        {
          line: 10,
          summary: /second connection is taken from pool `pool` \(connect\) while `client` from it is held .* via updateStats\(\)/,
          fix: /pass the open `client` down to updateStats\(\) instead of `pool`/,
        },
      ],
    },
    {
      name: "pg: the pool is queried inside the client's transaction",
      files: pg,
      code: `import { Pool } from "pg";
const pool = new Pool({ max: 1 });
export async function transfer(from: number, to: number) {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query("update acct set bal = bal - 1 where id = $1", [from]);
    await pool.query("update acct set bal = bal + 1 where id = $1", [to]);
    await client.query("commit");
  } finally {
    client.release();
  }
}`,
      findings: [
        {
          line: 8,
          summary: /`pool.query` takes a second connection .* single connection held, this waits forever.*outside `client`'s transaction/,
          fix: /`client.query\(…\)`/,
        },
      ],
    },
    {
      name: "mysql2: execute on the pool while a pooled connection is held",
      files: stubs("mysql2"),
      code: `import { createPool } from "mysql2/promise";
const pool = createPool({ connectionLimit: 4 });
export async function move(id: number) {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    await pool.execute("update b set x = 1 where id = ?", [id]);
    await conn.commit();
  } finally {
    conn.release();
  }
}`,
      findings: [{ line: 7, summary: /`pool.execute`.*when every connection is held/, fix: /`conn.execute\(…\)`/ }],
    },
    {
      name: "generic-pool: use() inside use() of the same pool",
      files: stubs("generic-pool"),
      code: `import { createPool } from "generic-pool";
const browsers = createPool({ create: async () => ({ open: async (u: string) => u }), destroy: async () => {} }, { max: 2 });
export async function crawl(urls: string[]) {
  await browsers.use(async (b) => {
    for (const u of urls) await browsers.use(async (other) => other.open(await b.open(u)));
  });
}`,
      findings: [{ line: 5, summary: /pool `browsers` \(use\) while `b` from it is held/ }],
    },
    {
      name: "the seed's 2.3 with asyncdoctor's Pool: use() inside use(), the pool passed down",
      files: stubs("asyncdoctor"),
      code: `import { Pool } from "asyncdoctor";
interface Conn { query(sql: string): Promise<unknown> }
async function bugUpdateStats(pool: Pool<Conn>, userId: number) {
  await pool.use((conn) => conn.query("update stats " + userId));
}
export async function bugProcessUser(userId: number, pool: Pool<Conn>) {
  await pool.use(async (conn) => {
    await conn.query("select " + userId);
    await bugUpdateStats(pool, userId);
  });
}`,
      findings: [
        {
          line: 9,
          summary: /pool `pool` \(use\) while `conn` from it is held .* via bugUpdateStats\(\)/,
          fix: /pass the open `conn` down to bugUpdateStats\(\)/,
        },
      ],
    },
    {
      name: "a transaction helper of the program runs a callback that queries the pool",
      files: pg,
      code: `import { Pool, type PoolClient } from "pg";
export class Repo {
  constructor(private readonly pool: Pool) {}
  async withTx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try { await client.query("begin"); const r = await fn(client); await client.query("commit"); return r; } finally { client.release(); }
  }
  async user(id: number) { return this.pool.query("select * from users where id = $1", [id]); }
  async rename(id: number, name: string) {
    return this.withTx(async (client) => {
      await this.user(id);
      await client.query("update users set name = $2 where id = $1", [id, name]);
    });
  }
}`,
      findings: [{ line: 11, summary: /`this.pool.query` .* while `client` from it is held .* via Repo.user\(\)/ }],
    },
    {
      name: "a pg pool under asyncdoctor's guardPool: use() then the pool queried",
      files: { ...pg, ...stubs("asyncdoctor") },
      code: `import { Pool } from "pg";
import { guardPool } from "asyncdoctor";
const pool = guardPool(new Pool({ max: 3 }));
async function bugUpdateStats(userId: number) { await pool.query("select $1::int", [userId]); }
export async function bugProcessUser(userId: number) {
  return pool.use(async (client) => {
    await client.query("select 1");
    await bugUpdateStats(userId);
  });
}`,
      findings: [{ line: 8, summary: /`pool.query` .* while `client` from it is held/ }],
    },
    {
      name: "the program's own pool abstraction, named in the rule's pools option (the pg-pool-deadlock demo)",
      files: pg,
      options: { pools: ["Db"] },
      code: `import type { PoolClient, QueryResult } from "pg";
export interface Db {
  use<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
  query(text: string, values?: unknown[]): Promise<QueryResult>;
}
async function bugUpdateStats(db: Db, userId: number) {
  await db.query("select $1::int", [userId]);
}
export async function bugProcessUser(db: Db, userId: number) {
  return db.use(async (client) => {
    await client.query("select 1");
    await bugUpdateStats(db, userId);
  });
}`,
      findings: [{ line: 12, summary: /`db.query` .* while `client` from it is held .* via bugUpdateStats\(\)/ }],
    },
    {
      name: "asyncdoctor Pool: acquire while holding a lease",
      files: stubs("asyncdoctor"),
      code: `import { Pool } from "asyncdoctor";
const conns = new Pool<{ id: number }>({ create: () => ({ id: 1 }), max: 1 });
export async function pair() {
  using first = await conns.acquire();
  using second = await conns.acquire();
  return [first.resource.id, second.resource.id];
}`,
      findings: [{ line: 5, summary: /single connection held/ }],
    },
  ],
});
