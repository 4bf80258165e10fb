// outline#1695 "Intermittent transaction deadlock": production logged
// SequelizeConnectionAcquireTimeoutError and the process locked up. The shape behind it: a
// helper called inside sequelize.transaction() queries without the transaction, so under
// concurrent requests every connection is held by a transaction waiting for another connection.
import { DataTypes, Model, Sequelize, type Transaction } from "sequelize";

const sequelize = new Sequelize(process.env.CORPUS_PG_URL ?? "", { logging: false, pool: { max: 2, acquire: 1500 } });

class Document extends Model {}
Document.init({ title: DataTypes.STRING, collectionId: DataTypes.INTEGER }, { sequelize, modelName: "o1695_document" });

async function documentCount(collectionId: number) {
  return Document.count({ where: { collectionId } });
}

async function createDocument(collectionId: number, title: string) {
  return sequelize.transaction(async (transaction: Transaction) => {
    const doc = await Document.create({ collectionId, title }, { transaction });
    const total = await documentCount(collectionId);
    await doc.update({ title: `${title} (${total})` }, { transaction });
    return doc;
  });
}

async function main() {
  await sequelize.sync({ force: true });
  await Promise.all([createDocument(1, "a"), createDocument(1, "b"), createDocument(2, "c")]);
  console.log("created");
  await sequelize.close();
}

main().catch((err) => {
  console.error(err.name);
  process.exit(1);
});
