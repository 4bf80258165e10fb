// knex#1976 "Deadlock timeout": the maintainer shows how a real deadlock arises: two
// transactions each lock one row, then ask for the row the other holds. PostgreSQL detects it
// and aborts one with 40P01 "deadlock detected"; the program sees an error, not a hang.
import knexFactory, { type Knex } from "knex";

const knex = knexFactory({ client: "pg", connection: process.env.CORPUS_PG_URL, pool: { min: 0, max: 4 } });

function rename(first: string, second: string, ready: Promise<void>, signal: () => void) {
  return knex.transaction(async (trx: Knex.Transaction) => {
    await trx("k1976_person").where({ firstName: first }).forUpdate().first();
    signal();
    await ready;
    await trx("k1976_person").where({ firstName: second }).update({ lastName: "renamed" });
  });
}

async function main() {
  await knex.schema.dropTableIfExists("k1976_person");
  await knex.schema.createTable("k1976_person", (t) => { t.increments("id"); t.string("firstName"); t.string("lastName"); });
  await knex("k1976_person").insert([{ firstName: "d1" }, { firstName: "d2" }]);
  // both transactions hold their first row before either asks for its second
  let aLocked!: () => void;
  let bLocked!: () => void;
  const aReady = new Promise<void>((r) => (aLocked = r));
  const bReady = new Promise<void>((r) => (bLocked = r));
  await Promise.all([rename("d1", "d2", bReady, aLocked), rename("d2", "d1", aReady, bLocked)]);
  console.log("both renamed");
  await knex.destroy();
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
