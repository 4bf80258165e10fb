// Correct: more transactions than pool connections, every query inside each one goes through
// its trx, so transactions queue for connections and all finish. (The fix of knex#1040.)
// Each takes its two rows in id order, so transfer(1, 3) and transfer(3, 1) cannot deadlock.
import knexFactory from "knex";

const knex = knexFactory({ client: "pg", connection: process.env.CORPUS_PG_URL, pool: { min: 0, max: 2 } });

async function transfer(from: number, to: number, amount: number) {
  return knex.transaction(async (trx) => {
    // both rows locked in one order (by id), so concurrent transfers cannot deadlock on them
    const rows = await trx("c1040_accounts").whereIn("id", [from, to]).orderBy("id").forUpdate();
    const sender = rows.find((r) => r.id === from);
    if (!sender || sender.balance < amount) throw new Error("insufficient funds");
    await trx("c1040_accounts").where({ id: from }).decrement("balance", amount);
    await trx("c1040_accounts").where({ id: to }).increment("balance", amount);
  });
}

async function main() {
  await knex.schema.dropTableIfExists("c1040_accounts");
  await knex.schema.createTable("c1040_accounts", (t) => { t.integer("id").primary(); t.integer("balance"); });
  await knex("c1040_accounts").insert([{ id: 1, balance: 100 }, { id: 2, balance: 100 }, { id: 3, balance: 100 }]);
  await Promise.all([transfer(1, 2, 10), transfer(2, 3, 10), transfer(3, 1, 10), transfer(1, 3, 5)]);
  console.log(await knex("c1040_accounts").orderBy("id"));
  await knex.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
