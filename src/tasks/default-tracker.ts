/**
 * The process-wide default tracker behind `spawn()`. Tasks it still holds when the process is
 * about to exit are reported as `leaked-task` (unless the runtime doctor owns the exit report).
 */
import { exitReportClaimedBy } from "../core/registry.js";
import { processWide } from "../core/process-wide.js";
import type { TaskRecord } from "../core/task.js";
import { report } from "../core/diagnosis.js";
import { TaskTracker } from "./task-tracker.js";
import type { Spawnable, SpawnOptions, Task } from "./task.js";
import { leakedTaskDiagnosis } from "./tracker-report.js";

let tracker: TaskTracker | undefined;

// shared by the ESM and CommonJS copies: the test helper of one may excuse a task the exit hook of the other sees
const excused = processWide("excusedTasks", () => new WeakSet<TaskRecord>());

/**
 * Marks a task as known background work that may outlive the process's end (a test helper's
 * allow-list): it is not reported as leaked at exit.
 */
export function excuseFromExitReport(task: TaskRecord): void {
  excused.add(task);
}

/** True for a task excused by {@link excuseFromExitReport}. */
export function isExcusedFromExitReport(task: TaskRecord): boolean {
  return excused.has(task);
}

/** The default tracker, created on first use (with its exit hook). */
export function defaultTracker(): TaskTracker {
  if (!tracker) {
    tracker = new TaskTracker({ name: "default" });
    const t = tracker;
    // 'exit' runs synchronously as the process ends, whether the loop drained or exit() was called.
    process.once("exit", (code) => {
      if (exitReportClaimedBy()) return;
      for (const task of t.tasks()) {
        if (excused.has(task.record)) continue;
        report(
          leakedTaskDiagnosis(
            task.record,
            `when the process exited (code ${code}); its work was cut off`,
            "await the task before exiting, or call `await defaultTracker().shutdown({ timeout })` in your shutdown path",
          ),
        );
      }
    });
  }
  return tracker;
}

/**
 * Spawns a background task on the process-wide default tracker: a strong reference is kept
 * until it settles, a failure nobody awaits is reported, and a task still running at exit is
 * reported as leaked.
 *
 * @example
 * ```ts
 * import { spawn } from "asyncdoctor";
 * spawn((signal) => sendNotification(user, signal), { name: `notify-${user.id}` });
 * ```
 */
export function spawn<T>(task: Spawnable<T>, options?: SpawnOptions): Task<T> {
  return defaultTracker().spawn(task, options);
}
