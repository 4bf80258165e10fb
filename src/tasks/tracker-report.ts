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
  readonly stats: TaskStats;
  /** One `leaked-task` Diagnosis per task still running (shutdown only). */
  readonly diagnoses: readonly Diagnosis[];
  /** The report as text: one line per task still running. */
  toString(): string;
}

export function buildReport(done: boolean, records: readonly TaskRecord[], stats: TaskStats, diagnoses: readonly Diagnosis[]): TrackerReport {
  const pending = records.map((r) => describeTask(r)).sort((a, b) => b.ageMs - a.ageMs);
  return {
    done,
    pending,
    stats,
    diagnoses,
    toString() {
      if (done) return `all tasks settled (${stats.completed} completed, ${stats.failed} failed, ${stats.cancelled} cancelled)`;
      return [
        `${pending.length} task(s) still running:`,
        ...pending.map(
          (t) =>
            `  - "${t.name}" running ${t.ageMs} ms, spawned at ${formatSite(t.site)}` +
            (t.waitingOn ? `, waiting on ${t.waitingOn.kind} "${t.waitingOn.name}" for ${t.waitingOn.forMs} ms` : ""),
        ),
      ].join("\n");
    },
  };
}

/** The leaked-task Diagnosis for one task still running when its owner stopped waiting. */
export function leakedTaskDiagnosis(record: TaskRecord, context: string, fix: string): Diagnosis {
  const t = describeTask(record);
  const subjects: Subject[] = [
    { kind: "task", name: record.name, role: "spawned here", site: record.site, detail: `running for ${t.ageMs} ms` },
  ];
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
