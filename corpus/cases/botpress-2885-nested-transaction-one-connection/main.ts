// botpress#2885: "pool issue with knex and transactions". insertAndRetrieve() ran a complete
// transaction of its own, and was called from inside another transaction. With one connection
// (SQLite), the outer transaction waits for the inner one, which waits for the connection the
// outer one holds.
import knexFactory, { type Knex } from "knex";

const knex = knexFactory({
  client: "pg",
  connection: process.env.CORPUS_PG_URL,
  pool: { min: 0, max: 1 },
});

async function insertAndRetrieve(table: string, row: Record<string, unknown>) {
  return knex.transaction(async (trx) => {
    const [inserted] = await trx(table).insert(row).returning("*");
    return trx(table).where({ id: inserted.id }).first();
  });
}

async function getOrCreateSession(trx: Knex.Transaction, botId: string) {
  const found = await trx("bp2885_sessions").where({ bot_id: botId }).first();
  if (found) return found;
  return insertAndRetrieve("bp2885_sessions", { bot_id: botId });
}

async function main() {
  await knex.schema.dropTableIfExists("bp2885_sessions");
  await knex.schema.createTable("bp2885_sessions", (t) => { t.increments("id"); t.string("bot_id"); });
  await knex.transaction(async (trx) => {
    const session = await getOrCreateSession(trx, "bot-1");
    console.log("session", session.id);
  });
  await knex.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
