// Report data for the HTML tests, built by hand in the shapes dump() and the exit report produce:
// two tasks in a lock-order deadlock, a pool exhausted by its own holders, a resource left open.
import { createDiagnosis } from "../../src/core/diagnosis.js";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import type { LockSnapshot, ResourceSnapshot, Snapshot, TaskSnapshot } from "../../src/core/registry.js";
import { captureSite } from "../../src/core/site.js";
import type { Site } from "../../src/core/site.js";
import type { TimelineEvent } from "../../src/diagnose/timeline.js";

export interface Fixture {
  diagnoses: Diagnosis[];
  snapshot: Snapshot;
  timeline: TimelineEvent[];
}

/** `evil` is put into every name, to check escaping. */
export function reportFixture(evil = ""): Fixture {
  const site: Site = captureSite()!;
  const at = (line: number): Site => ({ ...site, line });
  const task = (id: number, name: string, extra: Partial<TaskSnapshot> = {}): TaskSnapshot => ({
    id,
    name: name + evil,
    state: "pending",
    parentId: undefined,
    ageMs: 120,
    site: at(10 + id),
    waitingOn: undefined,
    holds: [],
    ...extra,
  });
  const tasks = [
    task(1, "main"),
    task(2, "transfer-a", {
      parentId: 1,
      waitingOn: { kind: "mutex", name: "audit" + evil, forMs: 40 },
      holds: [{ kind: "mutex", name: "accounts" + evil, site: at(20) }],
    }),
    task(3, "transfer-b", {
      parentId: 1,
      waitingOn: { kind: "mutex", name: "accounts" + evil, forMs: 38 },
      holds: [{ kind: "mutex", name: "audit" + evil, site: at(21) }],
    }),
    task(4, "report-1", { parentId: 1, waitingOn: { kind: "pool", name: "db" + evil, forMs: 10 }, holds: [{ kind: "pool", name: "db" + evil, site: at(30) }] }),
    task(5, "report-2", { parentId: 1, waitingOn: { kind: "pool", name: "db" + evil, forMs: 9 }, holds: [{ kind: "pool", name: "db" + evil, site: at(31) }] }),
    task(6, "idle-worker", { parentId: 1 }),
  ];
  const party = (t: TaskSnapshot, line: number, forMs: number) => ({ taskId: t.id, taskName: t.name, site: at(line), forMs, permits: 1 });
  const locks: LockSnapshot[] = [
    { id: 1, name: "accounts" + evil, kind: "mutex", site: at(5), capacity: 1, holders: [party(tasks[1]!, 20, 50)], waiters: [party(tasks[2]!, 22, 38)] },
    { id: 2, name: "audit" + evil, kind: "mutex", site: at(6), capacity: 1, holders: [party(tasks[2]!, 21, 49)], waiters: [party(tasks[1]!, 23, 40)] },
    {
      id: 3,
      name: "db" + evil,
      kind: "pool",
      site: at(7),
      capacity: 2,
      holders: [party(tasks[3]!, 30, 12), party(tasks[4]!, 31, 11)],
      waiters: [party(tasks[3]!, 32, 10), party(tasks[4]!, 33, 9)],
    },
    { id: 4, name: "cache" + evil, kind: "semaphore", site: at(8), capacity: 3, holders: [], waiters: [] },
  ];
  const resources: ResourceSnapshot[] = [{ id: 1, name: "session" + evil, site: at(40), ageMs: 300, taskName: "main" + evil }];
  const snapshot: Snapshot = { time: Date.now(), tasks, locks, resources };
  const t0 = Date.now() - 60;
  const ev = (dt: number, e: Omit<TimelineEvent, "time">): TimelineEvent => ({ time: t0 + dt, ...e });
  const timeline: TimelineEvent[] = [
    ev(0, { kind: "spawn", taskId: 2, taskName: tasks[1]!.name, parentId: 1 }),
    ev(1, { kind: "spawn", taskId: 3, taskName: tasks[2]!.name, parentId: 1 }),
    ev(2, { kind: "wait", taskId: 2, taskName: tasks[1]!.name, lockId: 1, lockName: "accounts" + evil, lockKind: "mutex" }),
    ev(3, { kind: "acquire", taskId: 2, taskName: tasks[1]!.name, lockId: 1, lockName: "accounts" + evil, lockKind: "mutex" }),
    ev(4, { kind: "wait", taskId: 3, taskName: tasks[2]!.name, lockId: 2, lockName: "audit" + evil, lockKind: "mutex" }),
    ev(5, { kind: "acquire", taskId: 3, taskName: tasks[2]!.name, lockId: 2, lockName: "audit" + evil, lockKind: "mutex" }),
    ev(20, { kind: "wait", taskId: 2, taskName: tasks[1]!.name, lockId: 2, lockName: "audit" + evil, lockKind: "mutex" }),
    ev(22, { kind: "wait", taskId: 3, taskName: tasks[2]!.name, lockId: 1, lockName: "accounts" + evil, lockKind: "mutex" }),
    ev(24, { kind: "wait", taskId: 6, taskName: tasks[5]!.name, lockId: 4, lockName: "cache" + evil, lockKind: "semaphore" }),
    ev(25, { kind: "spawn", taskId: 7, taskName: "short-lived" + evil, parentId: 1 }),
    ev(26, { kind: "abandon", taskId: 6, taskName: tasks[5]!.name, lockId: 4, lockName: "cache" + evil, lockKind: "semaphore", reason: "timeout" }),
    ev(30, { kind: "settle", taskId: 7, taskName: "short-lived" + evil, state: "fulfilled" }),
  ];
  const diagnoses = [
    createDiagnosis({
      rule: "deadlock-cycle",
      certainty: "proven",
      summary: `task "transfer-a${evil}" waits for mutex "audit${evil}" held by task "transfer-b${evil}", which waits for mutex "accounts${evil}"`,
      // as sync/ words them: each task's role names the primitive it waits for or holds
      subjects: [
        { kind: "task", name: "transfer-a" + evil, role: `waits for mutex "audit${evil}" here`, site: at(23) },
        { kind: "task", name: "transfer-b" + evil, role: `holds mutex "audit${evil}", acquired here`, site: at(21) },
        { kind: "task", name: "transfer-b" + evil, role: `waits for mutex "accounts${evil}" here`, site: at(22) },
        { kind: "task", name: "transfer-a" + evil, role: `holds mutex "accounts${evil}", acquired here`, site: at(20) },
        { kind: "lock", name: "accounts" + evil, role: "mutex", site: at(5) },
        { kind: "lock", name: "audit" + evil, role: "mutex", site: at(6) },
      ],
      steps: [
        { text: `task "transfer-a${evil}" waits for mutex "audit${evil}"`, site: at(23) },
        { text: `mutex "audit${evil}" is held by task "transfer-b${evil}"`, site: at(21) },
        { text: `task "transfer-b${evil}" waits for mutex "accounts${evil}"`, site: at(22) },
        { text: `mutex "accounts${evil}" is held by task "transfer-a${evil}"`, site: at(20) },
      ],
      fix: `take "accounts${evil}" before "audit${evil}" everywhere, or use lockAll([accounts, audit])`,
      site: at(22),
    }),
    createDiagnosis({
      rule: "pool-exhaustion",
      certainty: "proven",
      summary: `every connection of pool "db${evil}" is held by a task waiting on "db${evil}" again`,
      subjects: [
        { kind: "lock", name: "db" + evil, role: "pool", site: at(7) },
        { kind: "task", name: "report-1" + evil, role: "holder", site: at(30) },
        { kind: "task", name: "report-2" + evil, role: "holder", site: at(31) },
      ],
      fix: "pass the open connection down instead of asking the pool again",
    }),
    createDiagnosis({
      rule: "leaked-resource",
      certainty: "potential",
      summary: `resource "session${evil}" is still open`,
      subjects: [{ kind: "resource", name: "session" + evil, site: at(40) }],
      fix: "wrap it in `await using`",
    }),
  ];
  return { diagnoses, snapshot, timeline };
}
