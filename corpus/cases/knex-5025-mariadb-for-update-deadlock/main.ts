// knex#5025 "Does Knex blocks when it finds a Deadlock due to forUpdate?": parallel
// transactions each select a row FOR UPDATE and then update rows the others locked; MySQL
// answers ER_LOCK_DEADLOCK and the reporter expected knex to wait instead.
import knexFactory from "knex";

const knex = knexFactory({ client: "mysql2", connection: process.env.CORPUS_MYSQL_URL, pool: { min: 0, max: 4 } });

async function settle(ownId: number, otherId: number, lockedOwn: () => void, otherLocked: Promise<void>) {
  await knex.transaction(async (trx) => {
    const row = await trx("k5025_central_data").where({ id: ownId }).forUpdate().first();
    lockedOwn();
    await otherLocked;
    await trx("k5025_central_data").where({ id: otherId }).update({ total: row.total + 1 });
  });
}

async function main() {
  // the table lives in the database CORPUS_MYSQL_URL names: a `USE` would switch one pooled connection only
  await knex.schema.dropTableIfExists("k5025_central_data");
  await knex.schema.createTable("k5025_central_data", (t) => { t.integer("id").primary(); t.integer("total"); });
  await knex("k5025_central_data").insert([{ id: 4381, total: 0 }, { id: 4382, total: 0 }]);
  let aLocked!: () => void;
  let bLocked!: () => void;
  const a = new Promise<void>((r) => (aLocked = r));
  const b = new Promise<void>((r) => (bLocked = r));
  await Promise.all([settle(4381, 4382, aLocked, b), settle(4382, 4381, bLocked, a)]);
  console.log("settled");
  await knex.destroy();
}

main().catch((err) => {
  console.error(err.code ?? err.message);
  process.exit(1);
});
