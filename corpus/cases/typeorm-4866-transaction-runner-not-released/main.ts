// typeorm#4866 "TypeORM becomes unresponsive after this code is run 10x": a route handler makes
// a query runner, starts and commits a transaction, and never calls release(). After as many
// requests as the pool has connections, the next startTransaction and every other query wait.
import "reflect-metadata";
import { DataSource } from "typeorm";

const db = new DataSource({ type: "postgres", url: process.env.CORPUS_PG_URL, poolSize: 3 });

async function testtest() {
  const runner = db.createQueryRunner();
  await runner.startTransaction();
  await runner.query("SELECT 1");
  await runner.commitTransaction();
  return { success: true };
}

async function main() {
  await db.initialize();
  for (let i = 1; i <= 4; i++) {
    await testtest();
    console.log("request", i, "ok");
  }
  await db.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
