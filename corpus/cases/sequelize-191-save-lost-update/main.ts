// sequelize#191 "save() race condition": to change a record you fetch it, change it and save it.
// Two requests that fetch the same counter, add to it and save, write the same value: one
// increment is lost.
import { DataTypes, Model, Sequelize } from "sequelize";

const sequelize = new Sequelize(process.env.CORPUS_PG_URL ?? "", { logging: false });

class Counter extends Model {
  declare id: number;
  declare value: number;
}
Counter.init({ value: DataTypes.INTEGER }, { sequelize, modelName: "s191_counter" });

async function addTo(id: number, amount: number) {
  const counter = await Counter.findByPk(id);
  if (!counter) throw new Error("no counter");
  counter.value = counter.value + amount;
  await counter.save();
}

async function main() {
  await sequelize.sync({ force: true });
  const c = await Counter.create({ value: 0 });
  await Promise.all([addTo(c.id, 5), addTo(c.id, 10)]);
  await c.reload();
  console.log("value", c.value, c.value === 15 ? "" : "(an update was lost)");
  await sequelize.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
