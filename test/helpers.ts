// Test helpers for every folder: collect Diagnoses, and promises that settle when told (no sleeps).
import { configure, getConfig } from "../src/core/config.js";
import type { Diagnosis } from "../src/core/diagnosis.js";

/** Collects every runtime Diagnosis while `fn` runs; restores the previous handler. */
export async function collecting<T>(fn: (found: Diagnosis[]) => Promise<T>): Promise<{ result: T; found: Diagnosis[] }> {
  const found: Diagnosis[] = [];
  const prev = getConfig().onDiagnosis;
  configure({ onDiagnosis: (d) => found.push(d) });
  try {
    const result = await fn(found);
    return { result, found };
  } finally {
    configure({ onDiagnosis: prev });
  }
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves in the next macrotask (one setImmediate): lets pending I/O and timers' callbacks run. */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Resolves after the current macrotask and its setImmediate callbacks ran. */
export function nextMacrotask(): Promise<void> {
  return new Promise((r) => setImmediate(() => setImmediate(r)));
}

/** A promise that never settles until the signal aborts (then rejects with its reason). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** Resolves once `n` parties arrived: every holder has what it holds before any asks again. */
export function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  const all = deferred();
  return () => {
    if (++arrived === n) all.resolve();
    return all.promise;
  };
}
