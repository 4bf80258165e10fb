// knex#1040: "More Transactions than max pool connections kills knex". Each request opens a
// transaction and, inside it, reads through the outer `knex` instead of `trx`. Once as many
// transactions are open as the pool has connections, every one of them waits for a connection
// that only another transaction can give back: knex hangs until its acquire timeout.
import knexFactory from "knex";

const knex = knexFactory({
  client: "pg",
  connection: process.env.CORPUS_PG_URL,
  pool: { min: 0, max: 2 },
});

async function transfer(from: number, to: number, amount: number) {
  return knex.transaction(async (trx) => {
    // the read does not need to be transactional, so it goes through knex: a second connection
    const sender = await knex("k1040_accounts").where({ id: from }).first();
    if (!sender || sender.balance < amount) throw new Error("insufficient funds");
    await trx("k1040_accounts").where({ id: from }).decrement("balance", amount);
    await trx("k1040_accounts").where({ id: to }).increment("balance", amount);
  });
}

async function main() {
  await knex.schema.dropTableIfExists("k1040_accounts");
  await knex.schema.createTable("k1040_accounts", (t) => {
    t.integer("id").primary();
    t.integer("balance");
  });
  await knex("k1040_accounts").insert([{ id: 1, balance: 100 }, { id: 2, balance: 100 }, { id: 3, balance: 100 }]);
  // three requests at once, two connections
  await Promise.all([transfer(1, 2, 10), transfer(2, 3, 10), transfer(3, 1, 10)]);
  console.log("all transfers done");
  await knex.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
