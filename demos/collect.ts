/**
 * Collects the runtime Diagnoses a piece of demo code produces.
 */
import { configure, getConfig } from "../src/index.js";
import type { Diagnosis } from "../src/index.js";

/** Runs `fn` with every runtime Diagnosis captured instead of printed; waits a macrotask for late reports. */
export async function collect<T>(fn: () => Promise<T>): Promise<{ result: T; found: Diagnosis[] }> {
  const found: Diagnosis[] = [];
  const prev = getConfig().onDiagnosis;
  configure({ onDiagnosis: (d) => found.push(d) });
  try {
    const result = await fn();
    // task-failed reports wait one macrotask for a late awaiter, as Node's unhandled rejections do
    await new Promise((r) => setImmediate(() => setImmediate(r)));
    return { result, found };
  } finally {
    configure({ onDiagnosis: prev });
  }
}
