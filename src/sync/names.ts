/**
 * How sync/ names a task in its reports. Holder scopes of code outside any task share the
 * lock's "<name> holder" (making a unique string per acquire would cost on the hot path), so
 * reports add the id to tell them apart.
 */
import type { TaskRecord } from "../core/task.js";

/** A task's name for a report. */
export function taskLabel(t: TaskRecord | undefined): string {
  if (t === undefined) return "<unknown task>";
  return t.kind === "scope" && t.parent === undefined ? `${t.name} #${t.id}` : t.name;
}
