// Child process of doctor.bench.ts: times the promise-heavy loop (1e6 awaits) with or without
// asyncdoctor imported (production mode), and prints the median of several runs in ms.
const withPackage = process.argv[2] === "with";
if (withPackage) await import("../src/index.js");

async function leaf(i: number): Promise<number> {
  return i;
}

async function loop(n: number): Promise<number> {
  let s = 0;
  for (let i = 0; i < n; i++) s += await leaf(i);
  return s;
}

const times: number[] = [];
await loop(1e5); // warm-up
for (let r = 0; r < 7; r++) {
  const t = performance.now();
  await loop(1e6);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
process.stdout.write(`${times[3]}\n`);
