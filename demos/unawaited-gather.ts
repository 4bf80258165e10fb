/**
 * Seed 1.1, leak scenario 2: `gather(...)` without await. In TypeScript: a `Promise.all` whose
 * result is dropped. The caller goes on before the work is done and its errors go nowhere.
 * The runtime cannot see a dropped promise being dropped; the static checker can: the demo runs
 * `asyncdoctor check` (rule unawaited-aggregate) on its own source and prints the finding.
 */
import type { Demo } from "./demo.js";
import type { Diagnosis } from "../src/index.js";
import { captureSite } from "../src/core/site.js";
import { installHint, missingPeer } from "../src/cli/optional-peer.js";

/** This demo's own TypeScript source (through source maps when running the built code). */
function ownSource(): string | undefined {
  const file = captureSite(ownSource)?.file;
  return file && /\.ts$/.test(file) ? file : undefined;
}

async function saveAll(items: string[], saved: string[]): Promise<void> {
  await Promise.resolve();
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
    out.section("asyncdoctor's report: `asyncdoctor check` on this demo's source, before it runs");
    const source = ownSource();
    let found: readonly Diagnosis[] = [];
    // the checker loads TypeScript, an optional peer dependency: imported only when shown
    const checker = await import("../src/check/runner.js").catch((err: unknown) => {
      if (missingPeer(err) === undefined) throw err;
      return undefined;
    });
    if (!checker) {
      out.log(`(${installHint("typescript").trim()})`);
    } else if (source) {
      found = checker.check({ paths: [source], only: ["unawaited-aggregate"] }).diagnoses;
      for (const d of found) out.diagnosis(d);
    } else {
      out.log("(this demo's TypeScript source is not available here, so the checker cannot be shown on it)");
    }
    out.section("the fix");
    const b: string[] = [];
    out.log(`with await: ${await fixedAwaitedAll(b)} of 2`);
    return { bug: found, fixed: [] };
  },
};
