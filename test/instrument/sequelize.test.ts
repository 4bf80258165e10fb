import "../sync/with-await-graph.js";
// sequelize instrumented at load, on a real PostgreSQL server: a query inside a managed
// transaction that does not go through it (no { transaction: t }), or a second managed
// transaction started inside one, takes another connection of the same pool: reported as a
// potential pool-exhaustion at the user's line. Queries that go through the transaction, and
// queries outside any, are silent; sequelize's results are unchanged.
import { describe, it, after, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Sequelize as SequelizeType, ModelStatic, Model as ModelType } from "sequelize";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { installInstrumentations } from "../../src/instrument/index.js";
import type { InstalledInstrumentations } from "../../src/instrument/index.js";
import { collecting, deferred } from "../helpers.js";
import { pgForTests } from "../integrations/pg-helper.js";

const pgt = await pgForTests();
after(() => pgt.stop());

const here = fileURLToPath(import.meta.url);
const lines = readFileSync(here, "utf8").split("\n");

/** The pool-exhaustion findings, each as the source line of its site. */
function exhaustionLines(found: readonly Diagnosis[]): string[] {
  return found
    .filter((d) => d.rule === "pool-exhaustion")
    .map((d) => (d.site && d.site.file === here ? lines[d.site.line - 1]!.trim() : `elsewhere: ${d.site?.file}`));
}

describe("sequelize instrumented at load (real server)", { skip: pgt.skip }, () => {
  let installed: InstalledInstrumentations;
  let sequelize: SequelizeType;
  let other: SequelizeType;
  let Item: ModelStatic<ModelType>;
  before(async () => {
    installed = installInstrumentations({ libraries: ["sequelize"] });
    const { Sequelize, DataTypes, Model } = await import("sequelize");
    sequelize = new Sequelize(pgt.server!.url, { logging: false, pool: { max: 3, acquire: 5000 } });
    other = new Sequelize(pgt.server!.url, { logging: false, pool: { max: 1 } });
    class SeqItem extends Model {}
    SeqItem.init({ name: DataTypes.STRING }, { sequelize, modelName: "instrument_seq_item" });
    Item = SeqItem;
    await sequelize.sync({ force: true });
    await Item.create({ name: "a" });
  });
  after(async () => {
    await Promise.all([sequelize.close(), other.close()]);
    installed.uninstall();
  });

  it("a model query without { transaction } inside a transaction: potential pool-exhaustion at its line", async () => {
    const { result, found } = await collecting(() =>
      sequelize.transaction(async (t) => {
        await Item.findOne({ transaction: t });
        return Item.count(); // second connection: no { transaction }
      }),
    );
    assert.equal(result, 1);
    assert.deepEqual(exhaustionLines(found), ["return Item.count(); // second connection: no { transaction }"]);
    const d = found.find((x) => x.rule === "pool-exhaustion")!;
    assert.equal(d.certainty, "potential");
    assert.match(d.summary, /sequelize \(postgres/);
    assert.match(d.fix, /\{ transaction: t \}/);
  });

  it("a second managed transaction started inside one: reported at the line that starts it", async () => {
    const { found } = await collecting(() =>
      sequelize.transaction(async () => {
        await sequelize.transaction(async (inner) => Item.count({ transaction: inner })); // a transaction of its own
      }),
    );
    assert.deepEqual(exhaustionLines(found), ["await sequelize.transaction(async (inner) => Item.count({ transaction: inner })); // a transaction of its own"]);
  });

  it("a query in a helper, awaited inside the transaction: the helper's line and the line that awaits it", async () => {
    const countAll = () => Item.count(); // the helper's query
    const { found } = await collecting(() =>
      sequelize.transaction(async (t) => {
        await Item.findAll({ transaction: t });
        await countAll(); // awaited in the transaction
      }),
    );
    const d = found.find((x) => x.rule === "pool-exhaustion");
    assert.ok(d, found.map((x) => x.rule).join(", "));
    const sites = [d.site, ...d.subjects.map((s) => s.site)].filter((s) => s?.file === here).map((s) => lines[s!.line - 1]!.trim());
    assert.ok(sites.includes("const countAll = () => Item.count(); // the helper's query"), sites.join(" | "));
    assert.ok(sites.includes("await countAll(); // awaited in the transaction"), sites.join(" | "));
  });

  it("every query through the transaction, and a nested one with { transaction: t }: silent", async () => {
    const { result, found } = await collecting(() =>
      sequelize.transaction(async (t) => {
        await Item.findAll({ transaction: t });
        const row = await Item.findOne({ transaction: t });
        await row!.update({ name: "b" }, { transaction: t });
        await sequelize.transaction({ transaction: t }, async (sp) => Item.count({ transaction: sp }));
        await sequelize.query("select 1", { transaction: t });
        return Item.count({ transaction: t });
      }),
    );
    assert.equal(result, 1);
    assert.deepEqual(exhaustionLines(found), []);
  });

  it("queries outside any transaction, and on another instance inside one: silent", async () => {
    const { found } = await collecting(async () => {
      await Promise.all([Item.count(), Item.findAll(), sequelize.query("select 1")]);
      await sequelize.transaction(async (t) => {
        await Item.count({ transaction: t });
        await other.query("select 1"); // another pool
      });
      await Item.count();
    });
    assert.deepEqual(exhaustionLines(found), []);
  });

  it("a rollback keeps sequelize's own error and outcome", async () => {
    const err = await sequelize
      .transaction(async (t) => {
        await Item.create({ name: "rolled back" }, { transaction: t });
        throw new Error("on purpose");
      })
      .catch((e: unknown) => e as Error);
    assert.equal(err.message, "on purpose");
    assert.equal(await Item.count({ where: { name: "rolled back" } }), 0);
  });

  describe("load-modify-save", () => {
    let Counter: ModelStatic<ModelType & { value: number; label: string | null }>;
    let Versioned: ModelStatic<ModelType & { value: number }>;
    before(async () => {
      const { DataTypes, Model } = await import("sequelize");
      class SeqCounter extends Model {}
      SeqCounter.init({ value: DataTypes.INTEGER, label: DataTypes.STRING }, { sequelize, modelName: "instrument_seq_counter" });
      class SeqVersioned extends Model {}
      SeqVersioned.init({ value: DataTypes.INTEGER }, { sequelize, modelName: "instrument_seq_versioned", version: true });
      Counter = SeqCounter as typeof Counter;
      Versioned = SeqVersioned as typeof Versioned;
      await sequelize.sync({ force: true });
    });

    const lostUpdates = (found: readonly Diagnosis[]) => found.filter((d) => d.rule === "lost-update");

    it("two requests load the same row, add to it and save: lost-update at the later save", async () => {
      const c = await Counter.create({ value: 0 });
      // both have loaded the row before either saves
      const both = deferred();
      let loaded = 0;
      const addTo = async (amount: number) => {
        const row = await Counter.findByPk(c.get("id") as number);
        if (++loaded === 2) both.resolve();
        await both.promise;
        row!.value = row!.value + amount;
        await row!.save(); // load-modify-save
      };
      const { found } = await collecting(() => Promise.all([addTo(5), addTo(10)]));
      const d = lostUpdates(found);
      assert.equal(d.length, 1, found.map((x) => x.rule).join(", "));
      assert.equal(d[0]!.certainty, "observed");
      assert.equal(lineAt(d[0]!.site), "await row!.save(); // load-modify-save");
      assert.match(d[0]!.summary, /field "value"/);
      assert.match(d[0]!.fix, /increment/);
    });

    it("the same requests one after the other, each loading after the other saved: silent", async () => {
      const c = await Counter.create({ value: 0 });
      const addTo = async (amount: number) => {
        const row = await Counter.findByPk(c.get("id") as number);
        row!.value = row!.value + amount;
        await row!.save();
      };
      const { found } = await collecting(async () => {
        await addTo(5);
        await addTo(10);
      });
      assert.deepEqual(lostUpdates(found), []);
      await c.reload();
      assert.equal(c.value, 15);
    });

    it("concurrent saves of different fields, and increments done by the database: silent", async () => {
      const c = await Counter.create({ value: 0, label: "a" });
      const id = c.get("id") as number;
      const [a, b] = await Promise.all([Counter.findByPk(id), Counter.findByPk(id)]);
      const { found } = await collecting(async () => {
        a!.value = 1;
        b!.label = "b";
        await Promise.all([a!.save(), b!.save()]);
        await Promise.all([Counter.increment("value", { by: 1, where: { id } }), Counter.increment("value", { by: 1, where: { id } })]);
      });
      assert.deepEqual(lostUpdates(found), []);
    });

    it("optimistic locking (version: true): the stale save fails with sequelize's own error, and no lost update is reported", async () => {
      const v = await Versioned.create({ value: 0 });
      const id = v.get("id") as number;
      const [a, b] = await Promise.all([Versioned.findByPk(id), Versioned.findByPk(id)]);
      const { found } = await collecting(async () => {
        a!.value = 1;
        await a!.save();
        b!.value = 2;
        const err = await b!.save().catch((e: unknown) => e as Error);
        assert.equal((err as Error).name, "SequelizeOptimisticLockError");
      });
      assert.deepEqual(lostUpdates(found), []);
    });
  });
});

function lineAt(s: { file: string; line: number } | undefined): string {
  return s?.file === here ? lines[s.line - 1]!.trim() : `elsewhere: ${s?.file}`;
}
