/**
 * Lock-order inversion, as Linux lockdep does it: locks belong to classes (the name, else the
 * construction site). When class B is first taken while A is held, the order A → B is
 * recorded with the site. If B → A had been recorded before, two tasks running those paths at
 * the same time can deadlock: a potential deadlock, reported once per pair even though no
 * deadlock happened in this run.
 *
 * Only certain holds (scopes of runExclusive/use/lockAll) count, for the same reason as in the
 * wait-for graph: concurrent code of one task under a bare acquire is not nested in it.
 */
import { executionAsyncResource } from "node:async_hooks";
import { awaitGraphOn } from "../core/await-graph.js";
import { getConfig } from "../core/config.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import { DeadlockError } from "../core/errors.js";
import { captureSite } from "../core/site.js";
import type { Site } from "../core/site.js";
import type { TaskRecord } from "../core/task.js";
import { Lease } from "./lease.js";
import type { Primitive } from "./primitive.js";
import { taskLabel } from "./names.js";

interface OrderEdge {
  readonly heldKind: string;
  readonly acquiredKind: string;
  /** Where the held lock was acquired (when known). */
  readonly heldSite: Site | undefined;
  /** Where the second lock was taken while the first was held (resolved at once: no frames, no lock is kept alive). */
  readonly acquireSite: Site | undefined;
  readonly task: string;
}

/**
 * At most this many orders are kept. Per-instance names (`user-42`) make a class per instance;
 * past the cap new orders are not recorded (lockdep and go-deadlock cap theirs the same way).
 */
export const MAX_LOCK_ORDERS = 1000;

/** held class → acquired class → the first time it was seen. */
const order = new Map<string, Map<string, OrderEdge>>();
let orders = 0;
let capWarned = false;
const reportedPairs = new Set<string>();

/** Forgets every recorded order (tests). */
export function resetLockOrder(): void {
  order.clear();
  orders = 0;
  capWarned = false;
  reportedPairs.clear();
}

/** How many orders are recorded now (tests, the memory bench). */
export function lockOrderCount(): number {
  return orders;
}

const pairKey = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

/** A proven cycle on these two classes: the inversion is the same bug, not a second report. */
export function noteProvenPair(a: string, b: string): void {
  reportedPairs.add(pairKey(a, b));
}

/**
 * True when an acquire made now belongs to the awaited flow of the scopes it runs in: it runs
 * in a promise continuation, or synchronously in the callback where a scope of its chain
 * started. An acquire from a timer, immediate, nextTick or I/O callback scheduled inside a
 * scope carries the scope's identity without being awaited by it.
 */
function inOwnFlow(record: TaskRecord): boolean {
  const now = executionAsyncResource();
  if (now instanceof Promise) return true;
  for (let t: TaskRecord | undefined = record; t !== undefined; t = t.kind === "scope" ? t.parent : undefined) {
    const held = t.held;
    if (held !== undefined) for (const e of held) if (e instanceof Lease && e.scoped && e.startResource === now) return true;
  }
  return false;
}

/** Records the orders `task` creates by acquiring `p`; reports (or throws on) an inversion. */
export function checkLockOrder(p: Primitive, task: TaskRecord, above: Function): void {
  const policy = getConfig().lockOrder;
  if (policy === "off") return;
  let ownFlow: boolean | undefined;
  for (let t: TaskRecord | undefined = task; t !== undefined; t = t.kind === "scope" ? t.parent : undefined) {
    const held = t.held;
    if (held === undefined) continue;
    for (const e of held) {
      if (!(e instanceof Lease) || !e.scoped || e.target === p) continue;
      const a = e.target.name;
      const b = p.name;
      // two locks of one class (per-account locks made on one line) are not ordered by class
      if (a === b) continue;
      let from = order.get(a);
      if (from?.has(b)) continue;
      if (orders >= MAX_LOCK_ORDERS) {
        if (!capWarned) {
          capWarned = true;
          process.emitWarning(
            `asyncdoctor: ${MAX_LOCK_ORDERS} lock orders recorded; new ones are no longer checked. Per-instance lock names (such as "user-42") make a lock class per instance: name locks by their role instead`,
            { code: "ASYNCDOCTOR_LOCK_ORDER_CAP" },
          );
        }
        return;
      }
      // a callback scheduled inside the section is not nested in it (checked only for a new order)
      if ((ownFlow ??= inOwnFlow(task)) === false) return;
      if (from === undefined) {
        const fresh: NonNullable<ReturnType<typeof order.get>> = new Map();
        order.set(a, (from = fresh));
      }
      const edge: OrderEdge = { heldKind: e.target.kind, acquiredKind: p.kind, heldSite: e.site, acquireSite: captureSite(above), task: taskLabel(task) };
      from.set(b, edge);
      orders++;
      const earlier = order.get(b)?.get(a);
      if (earlier === undefined) continue;
      const pair = pairKey(a, b);
      if (reportedPairs.has(pair)) continue;
      const d = inversionDiagnosis(a, b, edge, earlier);
      if (policy === "throw") {
        reportedPairs.add(pair);
        throw new DeadlockError("lock-order", report(d, { thrown: true }));
      }
      if (awaitGraphOn()) {
        // the acquire may close a real cycle as soon as it is awaited: one bug, one report
        queueMicrotask(() => {
          if (reportedPairs.has(pair)) return;
          reportedPairs.add(pair);
          report(d);
        });
      } else {
        reportedPairs.add(pair);
        report(d);
      }
    }
  }
}

function inversionDiagnosis(a: string, b: string, nowEdge: OrderEdge, earlierEdge: OrderEdge) {
  const now = nowEdge;
  const earlier = earlierEdge;
  const A = `${now.heldKind} "${a}"`;
  const B = `${now.acquiredKind} "${b}"`;
  return createDiagnosis({
    rule: "lock-order-inversion",
    certainty: "potential",
    summary: `${B} is taken while holding ${A} by "${now.task}", but earlier ${A} was taken while holding ${B} by "${earlier.task}": two tasks on these paths at the same time deadlock`,
    subjects: [
      { kind: "lock", name: b, role: `taken first by "${earlier.task}"`, site: earlier.heldSite },
      { kind: "code", name: `${A} taken while holding ${B}`, role: "earlier order", site: earlier.acquireSite },
      { kind: "lock", name: a, role: `taken first by "${now.task}"`, site: now.heldSite },
      { kind: "code", name: `${B} taken while holding ${A}`, role: "opposite order", site: now.acquireSite },
    ],
    steps: [
      { text: `earlier, "${earlier.task}" held ${B} and took ${A}`, site: earlier.acquireSite },
      { text: `now, "${now.task}" holds ${A} and takes ${B}`, site: now.acquireSite },
      { text: `if each holds its first lock when the other asks for its second, both wait for ever` },
    ],
    site: now.acquireSite,
    fix: `take ${B} before ${A} everywhere (the order seen first), or take both at once with lockAll([...])`,
  });
}
