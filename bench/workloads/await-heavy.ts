// An await-heavy workload: async calls three deep, each awaiting the next and a resolved promise,
// with a lock taken around every tenth call. Prints the milliseconds it took (the bench compares
// the same workload uninstrumented and in debug mode with the await graph).
import { Mutex } from "../../src/sync/mutex.js";

const m = new Mutex({ name: "w" });

async function leaf(i: number): Promise<number> {
  await Promise.resolve();
  return i + 1;
}

async function middle(i: number): Promise<number> {
  const a = await leaf(i);
  return await leaf(a);
}

async function top(i: number): Promise<number> {
  if (i % 10 === 0) return m.runExclusive(() => middle(i));
  return middle(i);
}

async function main(n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await top(i);
  const batch: Promise<number>[] = [];
  for (let i = 0; i < n / 10; i++) batch.push(top(i));
  for (const v of await Promise.all(batch)) sum += v;
  return sum;
}

await main(Number(process.env.WARM ?? 20_000)); // warm-up
const t0 = performance.now();
for (let r = 0; r < Number(process.env.ROUNDS ?? 5); r++) await main(Number(process.env.N ?? 40_000));
console.log(String(performance.now() - t0));
