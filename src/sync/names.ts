/**
 * How sync/ names a task in its reports. Holder scopes of code outside any task share the
 * lock's "<name> holder" (making a unique string per acquire would cost on the hot path), so
 * reports add the id to tell them apart.
 */
import { formatSite } from "../core/site.js";
import type { TaskRecord } from "../core/task.js";

/** A task's name for a report. */
export function taskLabel(t: TaskRecord | undefined): string {
  if (t === undefined) return "<unknown task>";
  return t.kind === "scope" && t.parent === undefined ? `${t.name} #${t.id}` : t.name;
}

/** "; now waiting on mutex "b" at src/x.ts:3:9" for a holder that is itself blocked, else "". */
export function holderWaiting(t: TaskRecord | undefined): string {
  const w = t?.waitingOn;
  if (w === undefined) return "";
  return `; now waiting on ${w.target.kind} "${w.target.name}"${w.site ? ` at ${formatSite(w.site)}` : ""}`;
}
