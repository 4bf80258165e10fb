// node-mysql2#835 "pool.releaseConnection not working as expected": connections taken from
// pool.promise().getConnection() are handed back with the callback pool's releaseConnection(),
// which does not know them. The loop gets connectionLimit connections and then waits forever.
import mysql from "mysql2";

async function test() {
  const poolDB = mysql.createPool({ uri: process.env.CORPUS_MYSQL_URL, waitForConnections: true, connectionLimit: 4, queueLimit: 0 });
  for (let i = 0; i < 5; i++) {
    const conn = await poolDB.promise().getConnection();
    const [rows] = await conn.execute("SELECT 1 AS id");
    console.log((rows as Array<{ id: number }>)[0].id);
    poolDB.releaseConnection(conn as unknown as mysql.PoolConnection);
  }
  console.log("finished");
  poolDB.end();
}

test();
