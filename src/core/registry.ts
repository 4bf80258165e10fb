/**
 * The live registry: the pending tracked tasks, and the sections that other parts of the
 * library contribute to `snapshot()` (locks from sync/, resources from diagnose/) without core
 * importing them.
 */
import { performance } from "node:perf_hooks";
import type { Site } from "./site.js";
import { processWide } from "./process-wide.js";
import type { TaskRecord, TaskState } from "./task.js";

/**
 * Whatever owns live tasks (a tracker, a group). Owners register while they have live tasks,
 * so spawning costs no registry write per task; the registry asks them when a snapshot is taken.
 */
export interface TaskSource {
  /** @internal The records of its pending tasks (internal, like the owners' implementations of it). */
  liveRecords(): Iterable<TaskRecord>;
}

const sources = processWide("taskSources", () => new Set<TaskSource>());

/** An owner that now has live tasks (call when its first task starts). */
export function registerTaskSource(source: TaskSource): void {
  sources.add(source);
}

/** An owner whose tasks all settled. */
export function unregisterTaskSource(source: TaskSource): void {
  sources.delete(source);
}

/** Every pending tracked task, oldest first. */
export function pendingTasks(): TaskRecord[] {
  const out: TaskRecord[] = [];
  for (const s of sources) for (const r of s.liveRecords()) if (r.state === "pending") out.push(r);
  return out.sort((a, b) => a.id - b.id);
}

/** A task as it appears in a snapshot. */
export interface TaskSnapshot {
  readonly id: number;
  readonly name: string;
  readonly state: TaskState;
  readonly parentId: number | undefined;
  readonly ageMs: number;
  readonly site: Site | undefined;
  readonly waitingOn: { readonly kind: string; readonly name: string; readonly forMs: number } | undefined;
  readonly holds: readonly { readonly kind: string; readonly name: string; readonly site: Site | undefined }[];
}

/** The state of everything asyncdoctor knows, at one moment. */
export interface Snapshot {
  readonly time: number;
  readonly tasks: readonly TaskSnapshot[];
  /** Every live lock, semaphore, RWLock and pool, with its holders and waiters. */
  readonly locks: readonly LockSnapshot[];
  /** Every tracked resource still open. */
  readonly resources: readonly ResourceSnapshot[];
}

/** The sections other parts of the library contribute to a snapshot, by name, and what each lists. */
export interface SnapshotSections {
  locks: LockSnapshot;
  resources: ResourceSnapshot;
}

// name → one producer per copy of the package (ESM and CommonJS builds can both be loaded):
// a snapshot concatenates their lists
const sections = processWide("snapshotSections", () => new Map<string, Map<symbol, () => readonly unknown[]>>());
const thisCopy = Symbol("asyncdoctor copy");

/**
 * Adds a section to every snapshot: sync/ lists its locks and diagnose/ its resources here, so
 * that core does not import them. Registering the same name again from this copy replaces it.
 */
export function registerSnapshotSection<K extends keyof SnapshotSections>(name: K, produce: () => readonly SnapshotSections[K][]): void {
  let perCopy = sections.get(name);
  if (!perCopy) sections.set(name, (perCopy = new Map<symbol, () => readonly unknown[]>()));
  perCopy.set(thisCopy, produce);
}

/** One section's entries from every loaded copy of the package. */
function section<K extends keyof SnapshotSections>(name: K): SnapshotSections[K][] {
  const perCopy = sections.get(name);
  if (!perCopy) return [];
  // every producer was registered through registerSnapshotSection under this name
  return [...perCopy.values()].flatMap((produce) => produce() as readonly SnapshotSections[K][]);
}

/** Describes one task record for a snapshot. */
export function describeTask(t: TaskRecord, now = performance.now()): TaskSnapshot {
  return {
    id: t.id,
    name: t.name,
    state: t.state,
    parentId: t.parent?.id,
    ageMs: Math.round(t.ageMs),
    site: t.site,
    waitingOn: t.waitingOn ? { kind: t.waitingOn.target.kind, name: t.waitingOn.target.name, forMs: Math.round(now - t.waitingOn.since) } : undefined,
    holds: (t.held ?? []).map((h) => ({ kind: h.target.kind, name: h.target.name, site: h.site })),
  };
}

/**
 * The live state: pending tracked tasks, live locks and open resources.
 *
 * @example
 * ```ts
 * import { snapshot } from "asyncdoctor";
 * console.log(snapshot().tasks.map((t) => `${t.name} ${t.ageMs}ms`));
 * ```
 */
export function snapshot(): Snapshot {
  const now = performance.now();
  return {
    time: Date.now(),
    tasks: pendingTasks().map((t) => describeTask(t, now)),
    locks: section("locks"),
    resources: section("resources"),
  };
}

const exitReport = processWide("exitReport", () => ({ owner: undefined as string | undefined }));

/**
 * The runtime doctor (diagnose/) claims the exit report so the default tracker does not print
 * its own leaked-task lines as well.
 */
export function claimExitReport(owner: string): void {
  exitReport.owner = owner;
}

/** Who owns the exit report, if anyone. */
export function exitReportClaimedBy(): string | undefined {
  return exitReport.owner;
}

/** A holder or waiter of a primitive, as it appears in the `locks` section of a snapshot. */
export interface LockPartySnapshot {
  readonly taskId: number | undefined;
  readonly taskName: string | undefined;
  /** Where it acquired (holder) or started waiting (waiter), when known. */
  readonly site: Site | undefined;
  /** How long it has held or waited, in ms. */
  readonly forMs: number;
  /** Permits held or wanted (semaphores, pools); 1 for a mutex. */
  readonly permits: number;
  /** For an RWLock: "read" or "write". */
  readonly mode?: "read" | "write" | undefined;
  /**
   * For a holder: true when it is a scope made for this hold (runExclusive, use), so everything
   * inside it is inside the critical section; false for a bare acquire(), which concurrent code
   * of the same task may still release. Undefined when not known.
   */
  readonly scoped?: boolean | undefined;
}

/**
 * One live primitive in the `locks` section of a snapshot. sync/ registers the section under
 * the name `locks` (an array of these); diagnose/ and report/ read it without importing sync/.
 */
export interface LockSnapshot {
  readonly id: number;
  readonly name: string;
  /** "mutex", "semaphore", "rwlock", "pool". */
  readonly kind: string;
  /** Where it was constructed. */
  readonly site: Site | undefined;
  /** Total permits (1 for a mutex). */
  readonly capacity: number;
  readonly holders: readonly LockPartySnapshot[];
  /** FIFO order. */
  readonly waiters: readonly LockPartySnapshot[];
}

/** A tracked resource in the `resources` section of a snapshot (registered by diagnose/). */
export interface ResourceSnapshot {
  readonly id: number;
  readonly name: string;
  readonly site: Site | undefined;
  readonly ageMs: number;
  readonly taskName: string | undefined;
}
