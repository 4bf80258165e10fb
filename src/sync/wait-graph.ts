/**
 * The wait-for graph: task → primitive it waits on → the scopes holding it → the primitives
 * those scopes (or code running inside them) wait on → …
 *
 * Only certain facts are edges. A hold is certain when its holder is a scope made for that
 * hold (runExclusive, use, lockAll with a callback): all code running inside the scope is
 * inside the critical section, so a wait in there keeps the hold. A bare `acquire()` in a task
 * is not certain (concurrent code of the same task shares its identity), and code outside any
 * task has no identity at all: both count as "may still release" and never make a report.
 * Code inside a scope reaches it through nested scopes only; a task spawned inside a scope is
 * its own unit (the scope may not await it), so it never counts as the scope.
 */
import { executionAsyncResource } from "node:async_hooks";
import { performance } from "node:perf_hooks";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Step, Subject } from "../core/diagnosis.js";
import { DeadlockError } from "../core/errors.js";
import type { DeadlockKind } from "../core/errors.js";
import type { TaskRecord } from "../core/task.js";
import { Lease } from "./lease.js";
import type { Primitive, Waiter } from "./primitive.js";
import { taskLabel } from "./names.js";

/** The record and the scopes it runs inside, innermost first (stops at a spawned task). */
function inChain(record: TaskRecord, member: TaskRecord): boolean {
  for (let t: TaskRecord | undefined = record; t !== undefined; t = t.kind === "scope" ? t.parent : undefined) {
    if (t === member) return true;
  }
  return false;
}

function certainLease(e: unknown): e is Lease<unknown> {
  return e instanceof Lease && e.scoped;
}

/** True when the record, or a scope it runs inside, certainly holds something. */
export function holdsCertainly(record: TaskRecord): boolean {
  for (let t: TaskRecord | undefined = record; t !== undefined; t = t.kind === "scope" ? t.parent : undefined) {
    const held = t.held;
    if (held !== undefined) for (const e of held) if (certainLease(e)) return true;
  }
  return false;
}

let searchStamp = 0;

/**
 * True when an acquire made now belongs to the awaited flow of the scopes it runs in: it runs
 * in a promise continuation, or synchronously in the callback where a scope of its chain
 * started. An acquire from a timer, immediate, nextTick or I/O callback scheduled inside a
 * scope carries the scope's identity without being awaited by it: not certain, never judged.
 */
export function inOwnFlow(record: TaskRecord): boolean {
  const now = executionAsyncResource();
  if (now instanceof Promise) return true;
  for (let t: TaskRecord | undefined = record; t !== undefined; t = t.kind === "scope" ? t.parent : undefined) {
    const held = t.held;
    if (held !== undefined) for (const e of held) if (certainLease(e) && e.startResource === now) return true;
  }
  return false;
}

/** For each holder scope, the waits of code running inside it. */
const blockedUnder = new Map<TaskRecord, Waiter[]>();

/** Records a blocked wait under every scope of its chain that certainly holds something. */
export function indexWait(w: Waiter): void {
  for (let t: TaskRecord | undefined = w.task; t !== undefined; t = t.kind === "scope" ? t.parent : undefined) {
    const list = blockedUnder.get(t);
    if (list === undefined) blockedUnder.set(t, [w]);
    else list.push(w);
  }
  w.indexed = true;
}

/** Removes a wait that ended. */
export function unindexWait(w: Waiter): void {
  for (let t: TaskRecord | undefined = w.task; t !== undefined; t = t.kind === "scope" ? t.parent : undefined) {
    const list = blockedUnder.get(t);
    if (list === undefined) continue;
    const i = list.indexOf(w);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) blockedUnder.delete(t);
  }
  w.indexed = false;
}

/** The blocked waits inside a holder scope (for tests and the snapshot). */
export function waitsUnder(record: TaskRecord): readonly Waiter[] {
  return blockedUnder.get(record) ?? [];
}

/**
 * Called when `w` has just blocked on `p` (and been indexed). Returns the error to reject it
 * with when it can never be granted, else undefined. `limited`: the acquire has a timeout, a
 * signal or a deadline of its own.
 */
export function findDeadlock(p: Primitive, w: Waiter, limited = false): DeadlockError | undefined {
  const me = w.task;
  if (me === undefined) return undefined;
  // 1. the waiter's own scopes hold so much of p that the rest can never satisfy it
  let own = 0;
  for (const h of p._holds) if (h.scoped && h.task !== undefined && inChain(me, h.task)) own += h.permits;
  if (own > 0 && p._capacity - own < w.need) return fail("reentrant", reentrantDiagnosis(p, w, own));

  // 2. can any holder of p still make progress? Search the holders' waits for one that can.
  // a search stamp on each primitive instead of a Set: this runs on every blocked acquire
  const stamp = ++searchStamp;
  // another wait in the knot that a timeout or signal will end: the deadlock breaks by itself
  let breakable: Waiter | undefined;
  p._seen = stamp;
  const stack: Primitive[] = [p];
  while (stack.length !== 0) {
    const q = stack.pop()!;
    for (const h of q._holds) {
      if (!h.scoped || h.task === undefined) return undefined; // an uncertain holder may release
      const waits = blockedUnder.get(h.task);
      if (waits === undefined || waits.length === 0) return undefined; // a holder not blocked will release
      for (const x of waits) {
        if (x !== w && breakable === undefined && willEnd(x)) breakable = x;
        if (x.prim._seen !== stamp) {
          x.prim._seen = stamp;
          stack.push(x.prim);
        }
      }
    }
  }
  // Nothing reachable can move: proven. When another waiter in it will give up on its own
  // (timed back-off as a deadlock-avoidance design), leave it to that limit — unless this
  // acquire has a limit too: it was prepared to fail, so it fails now instead of later
  // (the pool whose every acquire has connectionTimeoutMillis: found at once, not in 30 s).
  if (breakable !== undefined && !limited) {
    report(breakableDiagnosis(p, w, breakable));
    return undefined;
  }
  if (p._holds.every((h) => h.task !== undefined && inChain(me, h.task))) {
    return fail("reentrant", reentrantDiagnosis(p, w, own));
  }
  if (p.kind !== "mutex" && p.kind !== "rwlock" && p._holds.every((h) => waitsOn(h.task!, p))) {
    return fail("pool-exhaustion", exhaustionDiagnosis(p, w));
  }
  return fail("cycle", cycleDiagnosis(p, w));
}

/** True when the wait will end on its own: a timeout, a signal, or a withTimeout deadline around it. */
function willEnd(x: Waiter): boolean {
  return x.timer !== undefined || x.signal !== undefined || x.task?.deadline !== undefined;
}

function breakableDiagnosis(p: Primitive, w: Waiter, breaker: Waiter) {
  const me = taskName(w.task);
  const other = taskName(breaker.task);
  return createDiagnosis({
    rule: "deadlock-cycle",
    certainty: "observed",
    summary: `task "${me}" waits for ${label(p)} in a deadlock that only the time limit of "${other}" (waiting for ${label(breaker.prim)}) will break: until then nothing moves, then "${other}" fails`,
    subjects: [
      { kind: "task", name: me, role: `waits for ${label(p)} here`, site: w.site },
      { kind: "task", name: other, role: `waits for ${label(breaker.prim)} with a time limit`, site: breaker.site },
      ...holderSubjects(p),
    ],
    site: w.site,
    fix: `take the locks in one order everywhere (lockAll), or release one before taking another; the time limit only turns the hang into a failure`,
  });
}

function waitsOn(holder: TaskRecord, p: Primitive): boolean {
  return (blockedUnder.get(holder) ?? []).some((x) => x.prim === p);
}

function fail(kind: DeadlockKind, d: ReturnType<typeof createDiagnosis>): DeadlockError {
  // a deadlock is reported even when the caller catches the error
  report(d);
  return new DeadlockError(kind, d);
}

const label = (p: Primitive) => `${p.kind} "${p.name}"`;
const taskName = taskLabel;
const since = (ms: number) => `for ${Math.round(performance.now() - ms)} ms`;

function holderSubjects(p: Primitive): Subject[] {
  return p._holds.map((h) => ({
    kind: "task" as const,
    name: taskName(h.task),
    role: `holds ${label(p)}${p._capacity > 1 && p.kind !== "rwlock" ? ` (${h.permits} permit${h.permits > 1 ? "s" : ""})` : h.mode ? ` (${h.mode})` : ""}, acquired here`,
    site: h.site,
    detail: h.site === undefined ? `${since(h.since)}; acquire sites are recorded in debug mode or with captureSites` : since(h.since),
  }));
}

function reentrantDiagnosis(p: Primitive, w: Waiter, own: number) {
  const name = taskName(w.task);
  const behind = p._queue.length > 1 || (p.kind === "rwlock" && own < p._capacity) ? " (a writer queued ahead lets no new reader in)" : "";
  const held = p.kind === "mutex" ? "while it holds it" : p.kind === "rwlock" ? "while it holds it" : `while it holds ${own} of its ${p._capacity} permits`;
  return createDiagnosis({
    rule: "deadlock-reentrant",
    certainty: "proven",
    summary: `task "${name}" acquires ${label(p)} again ${held}${behind}: it would wait for itself for ever`,
    subjects: [
      { kind: "task", name, role: "acquires again here", site: w.site },
      { kind: "lock", name: p.name, role: p.kind, site: p.site },
      ...holderSubjects(p),
    ],
    steps: [
      ...p._holds.map((h) => ({ text: `task "${taskName(h.task)}" acquired ${label(p)}${h.mode ? ` for ${h.mode}` : ""}`, site: h.site })),
      { text: `inside it, "${name}" acquires ${label(p)} again${w.mode ? ` for ${w.mode}` : ""} and waits for itself`, site: w.site },
    ],
    site: w.site,
    fix: `do not acquire ${label(p)} again inside its own critical section: pass what it protects (the lease, the connection) down, or split the inner function into a variant that expects the lock to be held`,
    data: { permitsHeld: own, permitsWanted: w.need, capacity: p._capacity },
  });
}

function exhaustionDiagnosis(p: Primitive, w: Waiter) {
  const holders = [...new Set(p._holds.map((h) => taskName(h.task)))];
  const list = holders.map((n) => `"${n}"`).join(", ");
  return createDiagnosis({
    rule: "pool-exhaustion",
    certainty: "proven",
    summary: `all ${p._capacity} permits of ${label(p)} are held by tasks that are themselves waiting on ${label(p)} (${list}): none can ever be released`,
    subjects: [{ kind: "lock", name: p.name, role: p.kind, site: p.site }, ...holderSubjects(p), { kind: "task", name: taskName(w.task), role: "last to block, here", site: w.site }],
    steps: p._holds.map((h) => {
      const inner = (blockedUnder.get(h.task!) ?? []).find((x) => x.prim === p);
      return { text: `task "${taskName(h.task)}" holds ${h.permits} of ${label(p)} and waits for another`, site: inner?.site ?? h.site };
    }),
    site: w.site,
    fix: `pass the ${p.kind === "pool" ? "connection" : "permit"} you already hold down to the nested call instead of acquiring another; a ${p.kind} of ${p._capacity} cannot serve ${p._capacity} holders that each want one more`,
    data: { capacity: p._capacity, holders: holders.length },
  });
}

interface Hop {
  readonly from: Primitive;
  readonly lease: Lease<unknown>;
  readonly wait: Waiter;
}

/** The cycle through `w`, as hops p → holder → the primitive it waits on → … back to w's scope. */
function findCycle(p: Primitive, w: Waiter): { hops: Hop[]; closing: Lease<unknown> | undefined } {
  const me = w.task!;
  const via = new Map<Primitive, Hop>();
  const queue: Primitive[] = [p];
  const seen = new Set<Primitive>([p]);
  for (let i = 0; i < queue.length; i++) {
    const q = queue[i]!;
    for (const h of q._holds) {
      if (h.task === undefined) continue;
      if (q !== p && inChain(me, h.task)) {
        const hops: Hop[] = [];
        for (let at = q; at !== p; ) {
          const hop = via.get(at)!;
          hops.unshift(hop);
          at = hop.from;
        }
        return { hops, closing: h };
      }
      for (const x of blockedUnder.get(h.task) ?? []) {
        if (seen.has(x.prim)) continue;
        seen.add(x.prim);
        via.set(x.prim, { from: q, lease: h, wait: x });
        queue.push(x.prim);
      }
    }
  }
  return { hops: [], closing: undefined };
}

function cycleDiagnosis(p: Primitive, w: Waiter) {
  const { hops, closing } = findCycle(p, w);
  const me = taskName(w.task);
  const steps: Step[] = [{ text: `task "${me}" waits for ${label(p)}`, site: w.site }];
  const subjects: Subject[] = [{ kind: "task", name: me, role: `waits for ${label(p)} here`, site: w.site }];
  const names = [me];
  for (const hop of hops) {
    const holder = taskName(hop.lease.task);
    names.push(holder);
    steps.push({ text: `${label(hop.from)} is held by task "${holder}"`, site: hop.lease.site });
    steps.push({ text: `task "${holder}" waits for ${label(hop.wait.prim)}${hop.wait.task !== hop.lease.task ? ` (in "${taskName(hop.wait.task)}")` : ""}`, site: hop.wait.site });
    subjects.push({ kind: "task", name: holder, role: `holds ${label(hop.from)}, acquired here`, site: hop.lease.site, detail: since(hop.lease.since) });
  }
  let order = "";
  if (closing !== undefined) {
    const last = hops.length > 0 ? hops[hops.length - 1]!.wait.prim : p;
    steps.push({ text: `${label(last)} is held by task "${taskName(closing.task)}", which is waiting in step 1: the cycle is closed`, site: closing.site });
    subjects.push({ kind: "task", name: taskName(closing.task), role: `holds ${label(last)}, acquired here`, site: closing.site, detail: since(closing.since) });
    order = ` take ${label(last)} and ${label(p)} in one order everywhere (lockAll([...]) takes them in one canonical order), or release one before taking the other`;
  } else {
    steps.push({ text: `every holder of ${label(p)} waits, directly or through others, on something only blocked tasks hold` });
    subjects.push(...holderSubjects(p));
    order = " take the locks in one canonical order everywhere (lockAll), or release one before taking another";
  }
  const locks = [p, ...hops.map((h) => h.wait.prim)];
  return createDiagnosis({
    rule: "deadlock-cycle",
    certainty: "proven",
    summary: `wait-for cycle: ${[...new Set(names)].map((n) => `"${n}"`).join(" and ")} wait for each other on ${locks.map(label).join(", ")}: none can ever proceed`,
    subjects: [...subjects, ...locks.map((l) => ({ kind: "lock" as const, name: l.name, role: l.kind, site: l.site }))],
    steps,
    site: w.site,
    fix: `the locks are taken in opposite orders:${order}`,
    data: { length: hops.length + 1 },
  });
}
