// Correct: every query inside the transaction gets { transaction }, and the increment is an
// atomic UPDATE, so concurrent transactions on a small pool all finish and no update is lost.
import { DataTypes, Model, Sequelize } from "sequelize";

const sequelize = new Sequelize(process.env.CORPUS_PG_URL ?? "", { logging: false, pool: { max: 1, acquire: 5000 } });

class Counter extends Model {
  declare id: number;
  declare value: number;
}
Counter.init({ value: DataTypes.INTEGER }, { sequelize, modelName: "c191_counter" });

async function addTo(id: number, amount: number) {
  await sequelize.transaction(async (transaction) => {
    const counter = await Counter.findByPk(id, { transaction });
    if (!counter) throw new Error("no counter");
    await counter.increment("value", { by: amount, transaction });
  });
}

async function main() {
  await sequelize.sync({ force: true });
  const c = await Counter.create({ value: 0 });
  await Promise.all([addTo(c.id, 5), addTo(c.id, 10), addTo(c.id, 1)]);
  await c.reload();
  console.log("value", c.value);
  await sequelize.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
