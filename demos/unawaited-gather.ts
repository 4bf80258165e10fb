/**
 * Seed 1.1, leak scenario 2: `gather(...)` without await. In TypeScript: a `Promise.all` whose
 * result is dropped. The caller goes on before the work is done and its errors go nowhere.
 * The runtime cannot see a dropped promise being dropped; the static checker can
 * (`asyncdoctor check`, rule unawaited-aggregate).
 */
import type { Demo } from "./demo.js";

async function saveAll(items: string[], saved: string[]): Promise<void> {
  await null;
  saved.push(...items);
}

/** The bug: the aggregate is not awaited; "done" is printed before anything is saved. */
async function bugUnawaitedAll(saved: string[]): Promise<number> {
  Promise.all([saveAll(["a"], saved), saveAll(["b"], saved)]);
  return saved.length;
}

/** The fix: await it. */
async function fixedAwaitedAll(saved: string[]): Promise<number> {
  await Promise.all([saveAll(["a"], saved), saveAll(["b"], saved)]);
  return saved.length;
}

export const unawaitedGather: Demo = {
  name: "unawaited-gather",
  title: "Promise.all without await: the caller runs ahead of the work",
  seed: "1.1 (gather not awaited)",
  async run(out) {
    out.section("the bug");
    const a: string[] = [];
    out.log(`items saved when the function returned: ${await bugUnawaitedAll(a)} of 2`);
    out.section("asyncdoctor's report");
    out.log("found before it runs: `asyncdoctor check demos/unawaited-gather.ts` reports unawaited-aggregate at the Promise.all line");
    out.section("the fix");
    const b: string[] = [];
    out.log(`with await: ${await fixedAwaitedAll(b)} of 2`);
    return { bug: [], fixed: [] };
  },
};
