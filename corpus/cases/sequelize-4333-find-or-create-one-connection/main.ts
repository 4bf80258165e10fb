// sequelize#4333 "findOrCreate hangs, if only one connection is available": with a pool of one
// connection, findOrCreate() does not return; with two it works. findOrCreate runs its lookup
// and insert in a transaction of its own, and here it is called from inside the caller's
// transaction without being given it.
import { DataTypes, Model, Sequelize } from "sequelize";

const sequelize = new Sequelize(process.env.CORPUS_PG_URL ?? "", { logging: false, pool: { max: 1, min: 0, idle: 10000, acquire: 2000 } });

class User extends Model {}
User.init({ name: { type: DataTypes.STRING(50), unique: true }, pass: DataTypes.STRING(50) }, { sequelize, modelName: "s4333_user" });

async function register(name: string) {
  return sequelize.transaction(async (t) => {
    await User.create({ name: `${name}-audit`, pass: "x" }, { transaction: t });
    const [user] = await User.findOrCreate({ where: { name }, defaults: { name, pass: "A" } });
    return user;
  });
}

sequelize
  .sync({ force: true })
  .then(() => register("B"))
  .then(() => {
    console.log("DONE");
    return sequelize.close();
  })
  .catch((e) => {
    console.log("ERR", e.name);
    process.exit(1);
  });
