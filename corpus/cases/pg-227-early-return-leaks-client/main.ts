// node-postgres#227 "The connection pool sucks", first example ("dead clients"): a handler checks
// a client out of the pool, returns early on one branch without giving it back, and after as
// many such requests as the pool has clients every later request waits forever.
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.CORPUS_PG_URL, max: 3 });

async function handle(req: { session?: { userId: number } }) {
  const client = await pool.connect();
  if (!req.session) {
    return { status: 401 };
  }
  try {
    const r = await client.query("SELECT $1::int AS id", [req.session.userId]);
    return { status: 200, body: r.rows[0] };
  } finally {
    client.release();
  }
}

async function main() {
  const requests = [{}, { session: { userId: 1 } }, {}, {}, { session: { userId: 2 } }];
  for (const req of requests) {
    const res = await handle(req);
    console.log(res.status);
  }
  await pool.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
