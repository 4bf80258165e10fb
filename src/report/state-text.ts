/**
 * The live state (a `dump()`) as text for a person: the task tree, locks with holders and
 * waiters, the wait-for graph and the open resources, each with its file:line.
 */
import type { LockSnapshot, ResourceSnapshot, TaskSnapshot } from "../core/registry.js";
import { formatSite } from "../core/site.js";

/** One edge of the wait-for graph: `from` waits on `lock`, which `to` holds. */
export interface WaitForEdge {
  readonly from: string;
  readonly lock: string;
  readonly to: string;
}

/** What `dump()` shows, as plain data (also its JSON form). */
export interface StateReport {
  readonly time: string;
  readonly pid: number;
  readonly tasks: readonly TaskSnapshot[];
  readonly locks: readonly LockSnapshot[];
  readonly waitFor: readonly WaitForEdge[];
  readonly resources: readonly ResourceSnapshot[];
}

/**
 * Renders a {@link StateReport} as text.
 *
 * @example
 * ```ts
 * process.stderr.write(renderStateText(dumpState()));
 * ```
 */
export function renderStateText(state: StateReport): string {
  const out: string[] = [`asyncdoctor dump at ${state.time} (pid ${state.pid})`, ""];
  out.push(`tasks (${state.tasks.length} pending):`);
  const byParent = new Map<number | undefined, TaskSnapshot[]>();
  const ids = new Set(state.tasks.map((t) => t.id));
  for (const t of state.tasks) {
    const parent = t.parentId !== undefined && ids.has(t.parentId) ? t.parentId : undefined;
    const list = byParent.get(parent) ?? [];
    list.push(t);
    byParent.set(parent, list);
  }
  const walk = (parent: number | undefined, depth: number) => {
    for (const t of byParent.get(parent) ?? []) {
      const wait = t.waitingOn ? `, waiting on ${t.waitingOn.kind} "${t.waitingOn.name}" for ${t.waitingOn.forMs} ms` : "";
      const holds = t.holds.length > 0 ? `, holds ${t.holds.map((h) => `${h.kind} "${h.name}"`).join(", ")}` : "";
      out.push(`${"  ".repeat(depth + 1)}- "${t.name}" #${t.id} ${t.state} ${t.ageMs} ms, spawned at ${formatSite(t.site)}${wait}${holds}`);
      walk(t.id, depth + 1);
    }
  };
  walk(undefined, 0);
  if (state.tasks.length === 0) out.push("  (none)");
  out.push("", `locks (${state.locks.length}):`);
  for (const l of state.locks) {
    out.push(`  - ${l.kind} "${l.name}" (capacity ${l.capacity}), created at ${formatSite(l.site)}`);
    for (const h of l.holders) out.push(`      held by "${h.taskName ?? "<unknown task>"}" for ${h.forMs} ms, acquired at ${formatSite(h.site)}`);
    for (const w of l.waiters) out.push(`      waited on by "${w.taskName ?? "<unknown task>"}" for ${w.forMs} ms, at ${formatSite(w.site)}`);
  }
  if (state.locks.length === 0) out.push("  (none)");
  out.push("", `wait-for graph (${state.waitFor.length} edge(s)):`);
  for (const e of state.waitFor) out.push(`  "${e.from}" -> [${e.lock}] -> "${e.to}"`);
  if (state.waitFor.length === 0) out.push("  (no task waits on another)");
  out.push("", `open resources (${state.resources.length}):`);
  for (const r of state.resources) {
    out.push(`  - "${r.name}" open ${r.ageMs} ms, opened at ${formatSite(r.site)}${r.taskName ? ` in task "${r.taskName}"` : ""}`);
  }
  if (state.resources.length === 0) out.push("  (none)");
  return out.join("\n") + "\n";
}
