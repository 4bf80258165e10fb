// typeorm#8790 "PoolConnection leaked by MysqlDriver.js": a query run through
// createQueryRunner("master").query(...) connects the runner implicitly, and nothing releases
// it. With a small pool the next QueryRunner.connect() waits for ever. The leak sat in the
// driver's version check; here it is the same call in application code.
import "reflect-metadata";
import { DataSource } from "typeorm";

const url = new URL(process.env.CORPUS_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/mysql");
const dataSource = new DataSource({
  type: "mysql",
  host: url.hostname,
  port: Number(url.port),
  username: url.username,
  database: "mysql",
  poolSize: 1,
});

async function serverVersion(): Promise<string> {
  const result = await dataSource.createQueryRunner("master").query("SELECT VERSION() AS `version`");
  return result[0].version;
}

async function main() {
  await dataSource.initialize();
  console.log("server", await serverVersion());
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    console.log(await runner.query("SELECT 1 AS ok"));
  } finally {
    await runner.release();
  }
  await dataSource.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
