// typeorm#4168 "Question about TransactionalEntityManager": all connections "idle in
// transaction" because code inside dataSource.transaction(...) used the global manager. Each such
// call takes a second connection; with as many transactions as pool connections, all of them
// wait for one another.
import "reflect-metadata";
import { DataSource, type EntityManager } from "typeorm";

const dataSource = new DataSource({ type: "postgres", url: process.env.CORPUS_PG_URL, poolSize: 2 });

async function audit(action: string) {
  // a helper that always writes through the global manager
  await dataSource.manager.query("INSERT INTO t4168_audit (action) VALUES ($1)", [action]);
}

async function placeOrder(item: string) {
  await dataSource.transaction(async (manager: EntityManager) => {
    await manager.query("INSERT INTO t4168_orders (item) VALUES ($1)", [item]);
    await audit(`order ${item}`);
  });
}

async function main() {
  await dataSource.initialize();
  await dataSource.query("CREATE TABLE IF NOT EXISTS t4168_orders (id serial PRIMARY KEY, item text)");
  await dataSource.query("CREATE TABLE IF NOT EXISTS t4168_audit (id serial PRIMARY KEY, action text)");
  await Promise.all([placeOrder("a"), placeOrder("b")]);
  console.log("orders placed");
  await dataSource.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
