/**
 * Collects the runtime Diagnoses a piece of demo code produces.
 */
import { configure, getConfig } from "../src/index.js";
import type { Diagnosis } from "../src/index.js";

/**
 * Runs `fn` with every runtime Diagnosis captured instead of printed; waits a macrotask for late
 * reports. With `mode: "debug"`, runs it in debug mode, as `asyncdoctor run` would: the await
 * graph knows what each section awaits, so a deadlock is proven the moment it forms.
 */
export async function collect<T>(fn: () => Promise<T>, options: { mode?: "debug" | "production" } = {}): Promise<{ result: T; found: Diagnosis[] }> {
  const found: Diagnosis[] = [];
  const prev = getConfig().onDiagnosis;
  const prevMode = getConfig().mode;
  configure({ onDiagnosis: (d) => found.push(d), mode: options.mode ?? prevMode });
  try {
    const result = await fn();
    // task-failed reports wait one macrotask for a late awaiter, as Node's unhandled rejections do
    await new Promise((r) => setImmediate(() => setImmediate(r)));
    return { result, found };
  } finally {
    configure({ onDiagnosis: prev, mode: prevMode });
  }
}
