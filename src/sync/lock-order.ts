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
import { getConfig } from "../core/config.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import { DeadlockError } from "../core/errors.js";
import { LazySite } from "../core/site.js";
import type { Site } from "../core/site.js";
import type { TaskRecord } from "../core/task.js";
import { Lease } from "./lease.js";
import type { Primitive } from "./primitive.js";
import { taskLabel } from "./names.js";
import { inOwnFlow } from "./wait-graph.js";

interface OrderEdge {
  readonly heldKind: string;
  readonly acquiredKind: string;
  /** Where the held lock was acquired (when known). */
  readonly heldSite: Site | undefined;
  /** Where the second lock was taken while the first was held (raw frames; resolved when reported). */
  readonly acquireAt: LazySite;
  readonly task: string;
}

/** held class → acquired class → the first time it was seen. */
const order = new Map<string, Map<string, OrderEdge>>();
const reportedPairs = new Set<string>();

/** Forgets every recorded order (tests). */
export function resetLockOrder(): void {
  order.clear();
  reportedPairs.clear();
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
      if (from === undefined) order.set(a, (from = new Map()));
      if (from.has(b)) continue;
      // a callback scheduled inside the section is not nested in it (checked only for a new order)
      if ((ownFlow ??= inOwnFlow(task)) === false) return;
      const edge: OrderEdge = { heldKind: e.target.kind, acquiredKind: p.kind, heldSite: e.site, acquireAt: new LazySite(above), task: taskLabel(task) };
      from.set(b, edge);
      const earlier = order.get(b)?.get(a);
      if (earlier === undefined) continue;
      const pair = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
      if (reportedPairs.has(pair)) continue;
      reportedPairs.add(pair);
      const d = inversionDiagnosis(a, b, edge, earlier);
      if (policy === "throw") throw new DeadlockError("lock-order", report(d));
      report(d);
    }
  }
}

function inversionDiagnosis(a: string, b: string, nowEdge: OrderEdge, earlierEdge: OrderEdge) {
  const now = { ...nowEdge, acquireSite: nowEdge.acquireAt.site };
  const earlier = { ...earlierEdge, acquireSite: earlierEdge.acquireAt.site };
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
