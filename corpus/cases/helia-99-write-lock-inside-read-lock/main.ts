// helia#99 (maintainer's comment): getMany() holds mortice's shared read lock while its
// generator is iterated; calling gc(), which takes the exclusive write lock, inside that loop
// waits for the read lock its own caller holds.
import mortice from "mortice";

const lock = mortice({ name: "blockstore" });
const blocks = new Map<string, string>([["cid1", "a"], ["cid2", "b"]]);

async function* getMany(cids: string[]) {
  const release = await lock.readLock();
  try {
    for (const cid of cids) yield blocks.get(cid);
  } finally {
    release();
  }
}

async function gc() {
  const release = await lock.writeLock();
  try {
    for (const [cid, block] of blocks) if (block === undefined) blocks.delete(cid);
  } finally {
    release();
  }
}

async function main() {
  for await (const block of getMany(["cid1", "cid2"])) {
    console.log("block", block);
    await gc();
  }
  console.log("done");
}

main();
