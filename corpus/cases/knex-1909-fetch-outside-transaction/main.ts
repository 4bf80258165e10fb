// knex#1909: "Timeout acquiring a connection. The pool is probably full. Are you missing a
// .transacting(trx) call?" The reporter's saveResults() wrote inside a transaction but fetched
// each row in a loop through a helper that used the global knex. Under load every pool
// connection belongs to a transaction waiting on such a fetch, and knex times out.
import knexFactory from "knex";

const db = knexFactory({
  client: "pg",
  connection: process.env.CORPUS_PG_URL,
  pool: { min: 0, max: 2 },
  acquireConnectionTimeout: 2000,
});

function fetchResult(id: number) {
  return db("k1909_results").where({ id }).first();
}

async function saveResults(ids: number[]) {
  await db.transaction(async (trx) => {
    for (const id of ids) {
      const existing = await fetchResult(id);
      if (existing) await trx("k1909_results").where({ id }).update({ score: existing.score + 1 });
      else await trx("k1909_results").insert({ id, score: 1 });
    }
  });
}

async function main() {
  await db.schema.dropTableIfExists("k1909_results");
  await db.schema.createTable("k1909_results", (t) => { t.integer("id").primary(); t.integer("score"); });
  await Promise.all([saveResults([1, 2]), saveResults([3, 4])]);
  console.log("saved");
  await db.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
