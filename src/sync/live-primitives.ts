/**
 * The live primitives, held weakly, and the `locks` section of `snapshot()`.
 */
import { performance } from "node:perf_hooks";
import { registerSnapshotSection } from "../core/registry.js";
import type { LockPartySnapshot, LockSnapshot } from "../core/registry.js";
import type { Site } from "../core/site.js";
import type { TaskRecord } from "../core/task.js";
import type { Primitive } from "./primitive.js";

const live = new Set<WeakRef<Primitive>>();
const collected = new FinalizationRegistry<WeakRef<Primitive>>((ref) => live.delete(ref));

/** Called by every primitive's constructor. */
export function registerPrimitive(p: Primitive): void {
  const ref = new WeakRef(p);
  live.add(ref);
  collected.register(p, ref);
}

/** Every live primitive, oldest first. */
export function livePrimitives(): Primitive[] {
  const out: Primitive[] = [];
  for (const ref of live) {
    const p = ref.deref();
    if (p !== undefined) out.push(p);
  }
  return out;
}

/** A holder or a waiter as the snapshot shows it. */
function party(
  task: TaskRecord | undefined,
  site: Site | undefined,
  since: number,
  permits: number,
  mode: "read" | "write" | undefined,
  now: number,
): LockPartySnapshot {
  return { taskId: task?.id, taskName: task?.name, site, forMs: Math.round(now - since), permits, mode };
}

/** One primitive as the snapshot shows it. */
export function describePrimitive(p: Primitive, now = performance.now()): LockSnapshot {
  return {
    id: p.id,
    name: p.name,
    kind: p.kind,
    site: p.site,
    capacity: p._capacity,
    holders: p._holds.map((h) => ({ ...party(h.task, h.site, h.since, h.permits, h.mode, now), scoped: h.scoped })),
    waiters: p._queue.map((w) => party(w.task, w.site, w.since, w.need, w.mode, now)),
  };
}

/**
 * The `locks` section of `snapshot()`: every live primitive with its holders and waiters.
 *
 * @example
 * ```ts
 * for (const l of lockSnapshot()) if (l.waiters.length) console.log(l.name, l.holders.map((h) => h.taskName));
 * ```
 */
export function lockSnapshot(): LockSnapshot[] {
  const now = performance.now();
  return livePrimitives().map((p) => describePrimitive(p, now));
}

registerSnapshotSection("locks", lockSnapshot);
