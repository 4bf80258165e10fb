// knex#1171: "Knex object hangs program inside transactions". With a pool of one connection
// (the report used SQLite, whose pool is a single connection), a query through `knex` inside
// `knex.transaction(...)` waits for the connection the transaction holds, and the transaction
// waits for the query: the program hangs.
import knexFactory from "knex";

const knex = knexFactory({
  client: "pg",
  connection: process.env.CORPUS_PG_URL,
  pool: { min: 0, max: 1 },
});

function bumpFirst() {
  return knex.transaction((trx) => {
    return knex("k1171_items")
      .select("id")
      .first()
      .then((row) => trx("k1171_items").update({ hits: 4 }).where({ id: row.id }));
  });
}

knex.schema
  .dropTableIfExists("k1171_items")
  .then(() => knex.schema.createTable("k1171_items", (t) => { t.increments("id"); t.integer("hits"); }))
  .then(() => knex("k1171_items").insert({ hits: 0 }))
  .then(() => bumpFirst())
  .then(() => {
    console.log("updated");
    return knex.destroy();
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
