// sequelize#10976 "Concurrent nested transactions are not compatible with connection pool of
// finite size": nested() opens a transaction and, inside it, another independent one. Five at
// once with a pool of five: each outer transaction holds a connection and waits for a second
// one that no other can give back, until the pool's acquire timeout.
import { Sequelize } from "sequelize";

const sequelize = new Sequelize(process.env.CORPUS_PG_URL ?? "", {
  logging: false,
  pool: { max: 5, acquire: 2000 },
});

const nested = function () {
  return sequelize.transaction(() => {
    return sequelize.transaction(async () => {});
  });
};

Promise.all([nested(), nested(), nested(), nested(), nested()])
  .then(() => console.log("done"))
  .catch((err) => {
    console.error(err.name);
    process.exit(1);
  });
