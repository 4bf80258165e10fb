/**
 * What a tracker says about its tasks when asked to wait or shut down: done or not, and for
 * each task still running its name, age, spawn site and what it waits on.
 */
import { createDiagnosis } from "../core/diagnosis.js";
import type { Diagnosis, Subject } from "../core/diagnosis.js";
import { formatSite } from "../core/site.js";
import type { TaskRecord } from "../core/task.js";
import { describeTask } from "../core/registry.js";
import type { TaskSnapshot } from "../core/registry.js";

/** Counts of a tracker's tasks. */
export interface TaskStats {
  readonly pending: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
}

/** The outcome of `waitAll` or `shutdown`. */
export interface TrackerReport {
  /** True when every task settled in time. */
  readonly done: boolean;
  /** The tasks still running, oldest first. */
  readonly pending: readonly TaskSnapshot[];
  /** The tasks shutdown had to abort because they outlived its timeout (with their final state). */
  readonly aborted: readonly TaskSnapshot[];
  readonly stats: TaskStats;
  /** One `leaked-task` Diagnosis per task still running (shutdown only). */
  readonly diagnoses: readonly Diagnosis[];
  /** The report as text: one line per task still running. */
  toString(): string;
}

export function buildReport(
  done: boolean,
  records: readonly TaskRecord[],
  stats: TaskStats,
  diagnoses: readonly Diagnosis[],
  abortedRecords: readonly TaskRecord[] = [],
): TrackerReport {
  const byAge = (a: TaskSnapshot, b: TaskSnapshot) => b.ageMs - a.ageMs;
  const pending = records.map((r) => describeTask(r)).sort(byAge);
  const aborted = abortedRecords.map((r) => describeTask(r)).sort(byAge);
  return {
    done,
    pending,
    aborted,
    stats,
    diagnoses,
    toString() {
      const counts = `${stats.completed} completed, ${stats.failed} failed, ${stats.cancelled} cancelled`;
      if (done) return `all tasks settled (${counts})`;
      const lines: string[] = [];
      const stopped = aborted.filter((t) => t.state !== "pending");
      if (stopped.length > 0) {
        lines.push(`${stopped.length} task(s) outlived the timeout and were aborted:`);
        for (const t of stopped) lines.push(`  - "${t.name}" (${t.state} after ${t.ageMs} ms), spawned at ${formatSite(t.site)}`);
      }
      if (pending.length > 0) {
        lines.push(`${pending.length} task(s) still running, even after the abort:`);
        for (const t of pending) {
          lines.push(
            `  - "${t.name}" running ${t.ageMs} ms, spawned at ${formatSite(t.site)}` +
              (t.waitingOn ? `, waiting on ${t.waitingOn.kind} "${t.waitingOn.name}" for ${t.waitingOn.forMs} ms` : ""),
          );
        }
      }
      lines.push(`(${counts})`);
      return lines.join("\n");
    },
  };
}

/** The leaked-task Diagnosis for one task still running when its owner stopped waiting. */
export function leakedTaskDiagnosis(record: TaskRecord, context: string, fix: string): Diagnosis {
  const t = describeTask(record);
  const subjects: Subject[] = [{ kind: "task", name: record.name, role: "spawned here", site: record.site, detail: `running for ${t.ageMs} ms` }];
  const wait = record.waitingOn;
  if (wait) {
    subjects.push({ kind: "lock", name: wait.target.name, role: `waiting on this ${wait.target.kind}`, site: wait.site ?? wait.target.site });
    for (const h of wait.target.holders()) {
      subjects.push({ kind: "task", name: h.task?.name ?? "<unknown task>", role: "which is held by", site: h.site });
    }
  }
  return createDiagnosis({
    rule: "leaked-task",
    certainty: "observed",
    summary: `task "${record.name}" was still running ${context}` + (t.waitingOn ? ` (waiting on ${t.waitingOn.kind} "${t.waitingOn.name}")` : ""),
    subjects,
    site: record.site,
    fix,
    data: { ageMs: t.ageMs },
  });
}
