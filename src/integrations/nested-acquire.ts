/**
 * A pool asked again by code that already holds one of its resources: it works while a resource
 * is free, and deadlocks the day every holder does it at once. The guards of real pools (pg,
 * knex) report it as a *potential* pool-exhaustion, once per call site, when the nested request
 * did get a resource (when it does not, sync/ proves the deadlock and reports that instead).
 */
import { createDiagnosis, report } from "../core/diagnosis.js";
import { formatSite } from "../core/site.js";
import type { Site } from "../core/site.js";
import type { TaskRecord } from "../core/task.js";
import { Lease } from "../sync/lease.js";
import type { Pool } from "../sync/pool.js";

/** The scoped lease of `pool` that the task, or a scope it runs inside, holds — if any. */
export function scopedHoldOf(pool: Pool<unknown>, task: TaskRecord | undefined): Lease<unknown> | undefined {
  // a task spawned inside a scope is its own unit: stop there, as the wait-for graph does
  for (let t = task; t !== undefined; t = t.kind === "scope" ? t.parent : undefined) {
    for (const e of t.held ?? []) if (e instanceof Lease && e.target === pool && e.scoped) return e;
  }
  return undefined;
}

/** What the report says about one kind of pool. */
export interface NestedAcquireWording {
  /** "client", "connection". */
  readonly resource: string;
  /** The concrete fix for this library. */
  readonly fix: string;
}

/**
 * A reporter for one guarded pool: `report(hold, how, site, awaitedAt)` reports once per site.
 * `awaitedAt` is the await in the user's code that waits for the request, when the await graph
 * knows it and it is not `site` itself (a query built in a helper and awaited by its caller).
 */
export function nestedAcquireReporter(
  pool: Pool<unknown>,
  wording: NestedAcquireWording,
): (hold: Lease<unknown>, how: string, site: Site | undefined, awaitedAt?: Site) => void {
  const reported = new Set<string>();
  return (hold, how, site, awaitedAt) => {
    const key = site ? formatSite(site) : how;
    if (reported.has(key)) return;
    reported.add(key);
    const holder = hold.task?.name ?? "<unknown task>";
    const max = pool.max;
    report(
      createDiagnosis({
        rule: "pool-exhaustion",
        certainty: "potential",
        summary: `task "${holder}" holds a ${wording.resource} of pool "${pool.name}" and asks the same pool for another (${how}): when all ${max} ${wording.resource}s are held by code doing this, every one of them waits for ever`,
        subjects: [
          { kind: "task", name: holder, role: `holds a ${wording.resource} of pool "${pool.name}", acquired here`, site: hold.site },
          { kind: "lock", name: pool.name, role: "pool", site: pool.site, detail: `${max} ${wording.resource}s` },
          { kind: "code", name: how, role: "asks the pool again here", site },
          ...(awaitedAt !== undefined && (site === undefined || awaitedAt.file !== site.file || awaitedAt.line !== site.line)
            ? [{ kind: "code" as const, name: how, role: "awaited here, holding the first", site: awaitedAt }]
            : []),
        ],
        site,
        fix: wording.fix,
        data: { max },
      }),
    );
  };
}
