import "../sync/with-await-graph.js";
// typeorm instrumented at load, on a real PostgreSQL server: a query through the data source's
// global manager inside dataSource.transaction() takes another connection of the same pool
// (reported as a potential pool-exhaustion at the user's line); a query runner the user's code
// connects and never releases is an open resource, opened at the line that created it.
// Queries through the transaction's manager, runners that are released or never connected, and
// typeorm's own runners are silent.
import "reflect-metadata";
import { describe, it, after, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DataSource as DataSourceType } from "typeorm";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { openResources } from "../../src/diagnose/resources.js";
import { installInstrumentations } from "../../src/instrument/index.js";
import type { InstalledInstrumentations } from "../../src/instrument/index.js";
import { collecting } from "../helpers.js";
import { pgForTests } from "../integrations/pg-helper.js";

const pgt = await pgForTests();
after(() => pgt.stop());

const here = fileURLToPath(import.meta.url);
const lines = readFileSync(here, "utf8").split("\n");
const lineAt = (s: { file: string; line: number } | undefined): string => (s && s.file === here ? lines[s.line - 1]!.trim() : `elsewhere: ${s?.file}`);

function exhaustionLines(found: readonly Diagnosis[]): string[] {
  return found.filter((d) => d.rule === "pool-exhaustion").map((d) => lineAt(d.site));
}

/** The open query runners of this file, by the line that created them. */
const openRunners = (): string[] =>
  openResources()
    .filter((e) => e.name.startsWith("query runner of "))
    .map((e) => lineAt(e.site));

describe("typeorm instrumented at load (real server)", { skip: pgt.skip }, () => {
  let installed: InstalledInstrumentations;
  let ds: DataSourceType;
  before(async () => {
    installed = installInstrumentations({ libraries: ["typeorm"] });
    const { DataSource } = await import("typeorm");
    ds = new DataSource({ type: "postgres", url: pgt.server!.url, poolSize: 4 });
    await ds.initialize();
    await ds.query("CREATE TABLE IF NOT EXISTS instrument_typeorm_audit (id serial PRIMARY KEY, action text)");
  });
  after(async () => {
    await ds.destroy();
    installed.uninstall();
  });

  it("the global manager inside a transaction: potential pool-exhaustion at its line", async () => {
    const { found } = await collecting(() =>
      ds.transaction(async (manager) => {
        await manager.query("SELECT 1");
        await ds.manager.query("INSERT INTO instrument_typeorm_audit (action) VALUES ('x')"); // the global manager
      }),
    );
    assert.deepEqual(exhaustionLines(found), [`await ds.manager.query("INSERT INTO instrument_typeorm_audit (action) VALUES ('x')"); // the global manager`]);
    const d = found.find((x) => x.rule === "pool-exhaustion")!;
    assert.equal(d.certainty, "potential");
    assert.match(d.summary, /typeorm data source \(postgres\)/);
    assert.match(d.fix, /the manager the callback is given/);
  });

  it("a query in a helper: the helper's line and the transaction's line that calls it", async () => {
    const audit = (action: string) => ds.query("INSERT INTO instrument_typeorm_audit (action) VALUES ($1)", [action]); // helper
    const { found } = await collecting(() =>
      ds.transaction(async (manager) => {
        await manager.query("SELECT 1");
        await audit("y"); // in the transaction
      }),
    );
    const d = found.find((x) => x.rule === "pool-exhaustion");
    assert.ok(d);
    const sites = [d.site, ...d.subjects.map((s) => s.site)].map(lineAt);
    assert.ok(
      sites.some((l) => l.endsWith("// helper")),
      sites.join(" | "),
    );
    assert.ok(sites.includes(`await audit("y"); // in the transaction`), sites.join(" | "));
  });

  it("every query through the transaction's manager, a nested transaction on it, queries outside: silent", async () => {
    const { result, found } = await collecting(async () => {
      await Promise.all([ds.query("SELECT 1"), ds.manager.query("SELECT 2")]);
      return ds.transaction(async (manager) => {
        await manager.query("INSERT INTO instrument_typeorm_audit (action) VALUES ('z')");
        await manager.transaction(async (inner) => inner.query("SELECT 1"));
        return manager.query<{ n: number }[]>("SELECT 3 AS n");
      });
    });
    assert.deepEqual(result, [{ n: 3 }]);
    assert.deepEqual(exhaustionLines(found), []);
  });

  it("a query runner connected and never released: open, at the line that created it", async () => {
    const runner = ds.createQueryRunner(); // never released
    await runner.query("SELECT 1");
    assert.ok(openRunners().includes("const runner = ds.createQueryRunner(); // never released"), openRunners().join(" | "));
    await runner.release();
    assert.ok(!openRunners().includes("const runner = ds.createQueryRunner(); // never released"));
  });

  it("runners released in finally, never connected, or typeorm's own: not open", async () => {
    const before = openRunners().length;
    const runner = ds.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query("SELECT 1");
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    ds.createQueryRunner(); // never connected: holds nothing
    await ds.query("SELECT 1");
    await ds.transaction((m) => m.query("SELECT 1"));
    assert.equal(openRunners().length, before);
  });

  it("connect() keeps typeorm's own value and errors", async () => {
    const runner = ds.createQueryRunner();
    const conn: unknown = await runner.connect();
    assert.ok(conn !== null && typeof conn === "object");
    assert.equal(await runner.connect(), conn);
    await runner.release();
    const err = await ds.query("SELECT * FROM no_such_table_typeorm").catch((e: unknown) => e as { driverError?: { code?: string } });
    assert.equal(err.driverError?.code, "42P01");
  });
});
