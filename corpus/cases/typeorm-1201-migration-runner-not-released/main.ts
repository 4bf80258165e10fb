// typeorm#1201 "Does MigrationExecutor or runMigrations() need a QueryRunner.release()?": the
// migration step made its own query runner and never released it. With a pool of one
// connection, the first query after the migrations is blocked and never executes.
import "reflect-metadata";
import { DataSource, type QueryRunner } from "typeorm";

const dataSource = new DataSource({ type: "postgres", url: process.env.CORPUS_PG_URL, poolSize: 1 });

class MigrationExecutor {
  private readonly queryRunner: QueryRunner;
  constructor(private readonly ds: DataSource, queryRunner?: QueryRunner) {
    this.queryRunner = queryRunner ?? ds.createQueryRunner("master");
  }
  async executePendingMigrations() {
    await this.queryRunner.query("CREATE TABLE IF NOT EXISTS t1201_migrations (id serial PRIMARY KEY, name text)");
    await this.queryRunner.query("INSERT INTO t1201_migrations (name) VALUES ('init')");
  }
}

async function main() {
  await dataSource.initialize();
  await new MigrationExecutor(dataSource).executePendingMigrations();
  const rows = await dataSource.query("SELECT count(*) AS n FROM t1201_migrations");
  console.log("migrations:", rows[0].n);
  await dataSource.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
