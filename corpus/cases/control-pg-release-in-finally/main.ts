// Correct: each handler releases its pooled client in finally, on every path, including the
// early return. (The fix of node-postgres#227.)
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.CORPUS_PG_URL, max: 1 });

async function handle(req: { session?: { userId: number } }) {
  const client = await pool.connect();
  try {
    if (!req.session) return { status: 401 };
    const r = await client.query("SELECT $1::int AS id", [req.session.userId]);
    return { status: 200, body: r.rows[0] };
  } finally {
    client.release();
  }
}

async function main() {
  const results = await Promise.all([{}, { session: { userId: 1 } }, {}, { session: { userId: 2 } }].map(handle));
  console.log(results.map((r) => r.status));
  await pool.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
