// sequelize#11024 "Deadlock on multiple transactions": the code inside each transaction passes
// `{ transaction: t }` as a second argument to findOne() and update(), where Sequelize does not
// read it. Those queries run outside the transaction on connections of their own; with several
// transactions at once the pool is exhausted, and a row the transaction locked blocks them.
import { DataTypes, Model, Sequelize } from "sequelize";

const sequelize = new Sequelize(process.env.CORPUS_PG_URL ?? "", { logging: false, pool: { max: 2, acquire: 2000 } });

class TestUser extends Model {}
TestUser.init({ username: DataTypes.STRING, birthday: DataTypes.DATE }, { sequelize, modelName: "s11024_user" });

async function main() {
  await sequelize.sync({ force: true });
  await TestUser.create({ username: "janedoe" });
  const runs = [];
  for (let i = 0; i < 3; i++) {
    runs.push(
      sequelize.transaction((t) => {
        // @ts-expect-error the reporter's call: findOne takes one options object
        return TestUser.findOne({ where: { username: "janedoe" } }, { transaction: t }).then(() => {
          // @ts-expect-error likewise: update's options are its second argument
          return TestUser.update({ birthday: new Date(1980, 1, 8) }, { where: { username: "janedoe" } }, { transaction: t });
        });
      }),
    );
  }
  await Promise.all(runs);
  console.log("done");
  await sequelize.close();
}

main().catch((err) => {
  console.error(err.name);
  process.exit(1);
});
