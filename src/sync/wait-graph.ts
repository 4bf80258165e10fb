/**
 * The deadlock proof. A party to a deadlock is a task whose completion waits on a grant — not
 * a task in whose context the request was made. So the facts are:
 * - a queued waiter is granted only when its permits are free and every waiter ahead of it has
 *   been granted (the queue is served in order: head-of-line);
 * - a scoped hold (runExclusive, use, lockAll with a callback) is released only when its body
 *   settles; a bare `acquire()` may be released by anyone at any time, so it is never stuck;
 * - a body settles only when what it awaits settles: the await graph (core/await-graph.ts)
 *   follows activations, asyncdoctor's own operations and Promise combinators down to the
 *   queued waiters they wait on. Anything it does not know may settle.
 * - a waiter with a timeout, a signal or a withTimeout deadline will leave by itself.
 *
 * A set of waiters is a knot when each of them can be granted only after another member is:
 * none ever will. The largest such set is found by assuming every candidate stuck and
 * removing those whose grant does not depend on the others until nothing changes. A waiter in
 * it is proven stuck; its acquire is rejected with a DeadlockError, which breaks the knot.
 *
 * Without the await graph (production mode) nothing is proven here: suspectKnot() describes a
 * knot as the contexts suggest it, for the long-wait report and a timeout's error, and the
 * event loop's drain proves what is left (drain.ts).
 */
import { performance } from "node:perf_hooks";
import { awaitGraphOn, blockedOn, chainOf, onAwaitBlocked, startAwaitGraph, stopAwaitGraph } from "../core/await-graph.js";
import { isDebug, onConfigChange } from "../core/config.js";
import type { ChainLink } from "../core/await-graph.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Diagnosis, Step, Subject } from "../core/diagnosis.js";
import { DeadlockError } from "../core/errors.js";
import type { DeadlockKind } from "../core/errors.js";
import { relativeFile } from "../core/site.js";
import type { TaskRecord } from "../core/task.js";
import type { Lease } from "./lease.js";
import type { Primitive, Waiter } from "./primitive.js";
import { livePrimitives } from "./live-primitives.js";
import { noteProvenPair } from "./lock-order.js";
import { taskLabel } from "./names.js";

/** What a proof found: the stuck waiters and, for each stuck hold, the waiters its body awaits. */
export interface Knot {
  readonly stuck: ReadonlySet<Waiter>;
  readonly holdLeaves: ReadonlyMap<Lease<unknown>, ReadonlySet<Waiter>>;
}

function isWaiter(x: object): x is Waiter {
  return (x as { kind?: unknown }).kind === "leaf" && "prim" in x;
}

/** The queued waiters a scoped hold's body waits on right now, or undefined when it may settle. */
function leavesOfHold(h: Lease<unknown>): Set<Waiter> | undefined {
  if (!h.scoped || h.body === undefined) return undefined;
  const leaves = new Set<object>();
  if (!blockedOn(h.body, leaves) || leaves.size === 0) return undefined;
  const out = new Set<Waiter>();
  for (const l of leaves) {
    if (!isWaiter(l)) return undefined;
    out.add(l);
  }
  return out;
}

/**
 * The knot `w` belongs to or waits behind, from the facts alone; undefined when `w` may still
 * be granted. Candidates are the queued waiters (without a limit) of every primitive reached
 * from `w` through holders' bodies; the fixpoint works per primitive: its stuck waiters are the
 * queue from the first candidate whose permits can never come (capacity minus what stuck
 * holds keep is less than it needs) to the end, since the queue is served in order.
 */
export function proveStuck(w: Waiter, ignoreLimits = false): Knot | undefined {
  if (w.done || (w.limited && !ignoreLimits)) return undefined;
  const candidate = (v: Waiter) => !v.done && (ignoreLimits || !v.limited);
  const prims: Primitive[] = [];
  const seenPrims = new Set<Primitive>();
  const holdLeaves = new Map<Lease<unknown>, Set<Waiter> | undefined>();
  const stack: Primitive[] = [w.prim];
  while (stack.length !== 0) {
    const p = stack.pop()!;
    if (seenPrims.has(p)) continue;
    seenPrims.add(p);
    prims.push(p);
    for (const h of p._holds) {
      if (holdLeaves.has(h)) continue;
      const leaves = leavesOfHold(h);
      holdLeaves.set(h, leaves);
      if (leaves !== undefined) for (const l of leaves) if (!seenPrims.has(l.prim)) stack.push(l.prim);
    }
  }
  // start from "everything stuck" and remove what can move until nothing changes
  const cand = new Set<Waiter>();
  for (const p of prims) for (const v of p._queue) if (candidate(v)) cand.add(v);
  const holdStuck = (h: Lease<unknown>): boolean => {
    const leaves = holdLeaves.get(h);
    if (leaves === undefined) return false;
    for (const l of leaves) if (!cand.has(l)) return false;
    return true;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const p of prims) {
      let stuckHeld = 0;
      for (const h of p._holds) if (holdStuck(h)) stuckHeld += h.permits;
      let blocked = false; // a stuck candidate ahead blocks everyone behind it
      for (const v of p._queue) {
        if (!cand.has(v)) continue;
        if (!blocked && p._capacity - stuckHeld < v.need) blocked = true;
        if (!blocked) {
          cand.delete(v);
          changed = true;
        }
      }
    }
  }
  if (!cand.has(w)) return undefined;
  const held = new Map<Lease<unknown>, ReadonlySet<Waiter>>();
  for (const [h, leaves] of holdLeaves) if (leaves !== undefined && holdStuck(h)) held.set(h, leaves);
  return { stuck: cand, holdLeaves: held };
}

/**
 * A cheap necessary condition: a waiter can be stuck only if some scoped holder of its
 * primitive has a body that waits on queued waiters now (else every permit can come back, and
 * the queue drains in order). Most contention stops here.
 */
function mayBeStuck(w: Waiter): boolean {
  for (const h of w.prim._holds) if (leavesOfHold(h) !== undefined) return true;
  return false;
}

/** Checks the waiters an await (or a bound body) just made someone wait on; rejects a proven one. */
function checkLeaves(leaves: Set<object>): void {
  // the stuck waiters of a primitive are a suffix of its queue: judge its last leaf, reject its first stuck one
  const byPrim = new Map<Primitive, Waiter[]>();
  for (const l of leaves) {
    if (!isWaiter(l) || l.done) continue;
    const list = byPrim.get(l.prim);
    if (list === undefined) byPrim.set(l.prim, [l]);
    else list.push(l);
  }
  for (const [p, all] of byPrim) {
    const q = p._queue;
    if (all.length > 1) all.sort((a, b) => q.indexOf(a) - q.indexOf(b));
    const last = all[all.length - 1]!;
    if (!mayBeStuck(last)) continue;
    const list = all.filter((l) => !l.limited);
    if (list.length > 0) {
      const knot = proveStuck(list[list.length - 1]!);
      if (knot !== undefined) {
        const target = list.find((l) => knot.stuck.has(l))!;
        const d = provenDiagnosis(target, knot);
        reportSafely(d, true);
        p._reject(target, new DeadlockError(kindOf(d.rule), d), "deadlock");
        return; // one rejection breaks the knot; what remains is judged again when it waits again
      }
    }
    // a knot that a time limit will end: not a deadlock (never thrown), but nothing moves until then
    const breakable = proveStuck(last, true);
    if (breakable !== undefined && !reportedBreakable.has(last)) {
      for (const v of breakable.stuck) reportedBreakable.add(v);
      reportSafely(
        breakableDiagnosis(
          all.find((l) => breakable.stuck.has(l))!,
          breakable,
        ),
      );
    }
  }
}

/** Waiters already named in a report of a knot that a limit will break: one report per knot. */
const reportedBreakable = new WeakSet<Waiter>();

function breakableDiagnosis(w: Waiter, knot: Knot) {
  const d = provenDiagnosis(w, knot);
  const limited = [...knot.stuck].filter((v) => v.limited);
  const names = [...new Set(limited.map((v) => `"${taskLabel(v.task, v)}" (waiting for ${label(v.prim)})`))].join(", ");
  return createDiagnosis({
    rule: d.rule,
    certainty: "observed",
    summary: `${d.summary.replace(/: (none can ever proceed|it would wait for itself for ever|none can ever be released)$/, "")}; only the time limit of ${names || "a waiter"} will end it, as a failure: until then nothing moves`,
    subjects: d.subjects,
    steps: d.steps,
    site: w.site,
    fix: `${d.fix}; the time limit only turns the hang into a failure`,
    data: { ...d.data, breakableBy: limited.length },
  });
}

onAwaitBlocked(checkLeaves);

// debug mode is when the graph records: its promise hook costs on every promise
if (isDebug()) startAwaitGraph();
onConfigChange((c) => {
  if (c.mode === "debug") startAwaitGraph();
  else stopAwaitGraph();
});

/** Called when a scoped hold's body has started: the body may already wait inside a knot. */
export function bodyBound(lease: Lease<unknown>): void {
  if (!awaitGraphOn()) return;
  const leaves = new Set<object>();
  if (blockedOn(lease.body, leaves) && leaves.size !== 0) checkLeaves(leaves);
}

function reportSafely(d: Diagnosis, thrown = false): void {
  try {
    report(d, { thrown });
  } catch {
    // report() already guards its sinks; nothing may stop the rejection that follows
  }
}

function kindOf(rule: string): DeadlockKind {
  return rule === "deadlock-reentrant" ? "reentrant" : rule === "pool-exhaustion" ? "pool-exhaustion" : "cycle";
}

const label = (p: Primitive) => `${p.kind} "${p.name}"`;
const since = (ms: number) => `for ${Math.round(performance.now() - ms)} ms`;

function chainText(links: readonly ChainLink[]): string {
  return links.map(linkText).join(" → ");
}

function linkText(l: ChainLink): string {
  const at = l.file ? ` at ${relativeFile(l.file)}:${l.line}` : "";
  return l.name === "<anonymous>" ? `the callback${at}` : `${l.name}()${at}`;
}

/** A hold's holder: its task's name, or, for an unnamed scope, the function its body runs. */
function holderName(h: Lease<unknown>): string {
  const t = h.task;
  if (t !== undefined && t.kind === "scope" && t.parent === undefined) {
    const first = chainOf(h.body)[0];
    if (first !== undefined) return `${taskLabel(t)}, running ${linkText(first)}`;
  }
  return taskLabel(t);
}

/** The steps of a hold's body down to the await that waits: "transfer() awaits at bank.ts:12". */
function bodySteps(h: Lease<unknown>): Step[] {
  return chainOf(h.body).map((l) => ({
    text: `${l.name === "<anonymous>" ? "the callback" : `${l.name}()`} awaits here`,
    site: l.file ? { file: l.file, line: l.line, column: l.column, functionName: l.name } : undefined,
  }));
}

function holdRole(p: Primitive, h: Lease<unknown>): string {
  return `holds ${label(p)}${p._capacity > 1 && p.kind !== "rwlock" ? ` (${h.permits} permit${h.permits > 1 ? "s" : ""})` : h.mode ? ` (${h.mode})` : ""}, acquired here`;
}

function holderSubject(p: Primitive, h: Lease<unknown>): Subject {
  return {
    kind: "task",
    name: holderName(h),
    role: holdRole(p, h),
    site: h.site,
    detail: h.site === undefined ? `${since(h.since)}; acquire sites are recorded in debug mode or with captureSites` : since(h.since),
  };
}

/** A path w → … → w through the knot: each hop a stuck hold whose body awaits the next waiter, or a waiter queued ahead. */
function cycleThrough(w: Waiter, knot: Knot): { via: "hold" | "queue"; from: Waiter; hold?: Lease<unknown>; to: Waiter }[] | undefined {
  type Hop = { via: "hold" | "queue"; from: Waiter; hold?: Lease<unknown>; to: Waiter };
  const prev = new Map<Waiter, Hop>();
  const queue: Waiter[] = [w];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    const next: Hop[] = [];
    for (const a of v.prim._queue) {
      if (a === v) break;
      if (knot.stuck.has(a)) next.push({ via: "queue", from: v, to: a });
    }
    for (const h of v.prim._holds) {
      const leaves = knot.holdLeaves.get(h);
      if (leaves !== undefined) for (const l of leaves) next.push({ via: "hold", from: v, hold: h, to: l });
    }
    for (const hop of next) {
      if (hop.to === w) {
        const path: Hop[] = [hop];
        for (let at = v; at !== w;) {
          const back = prev.get(at)!;
          path.unshift(back);
          at = back.from;
        }
        return path;
      }
      if (!prev.has(hop.to) && knot.stuck.has(hop.to)) {
        prev.set(hop.to, hop);
        queue.push(hop.to);
      }
    }
  }
  return undefined;
}

/** The Diagnosis of a proven knot, seen from the waiter `w` that is rejected. */
export function provenDiagnosis(w: Waiter, knot: Knot): Diagnosis {
  const p = w.prim;
  const me = taskLabel(w.task, w);
  const path = cycleThrough(w, knot);
  const selfHolds = p._holds.filter((h) => knot.holdLeaves.get(h)?.has(w));
  const behind = p._queue.slice(0, Math.max(0, p._queue.indexOf(w))).filter((a) => knot.stuck.has(a));
  const subjects: Subject[] = [{ kind: "task", name: me, role: `waits for ${label(p)} here`, site: w.site }];
  const steps: Step[] = [];

  const exhaustion =
    p.kind !== "mutex" && p.kind !== "rwlock" && p._holds.length > 1 && p._holds.every((h) => [...(knot.holdLeaves.get(h) ?? [])].some((l) => l.prim === p));
  const own = selfHolds.reduce((n, s) => n + s.permits, 0);
  if (selfHolds.length > 0 && (p._capacity - own < w.need || behind.length > 0) && !exhaustion) {
    // the holder's own body waits for this acquire: it waits for itself
    const h = selfHolds[0]!;
    const holder = holderName(h);
    for (const s of selfHolds) subjects.push(holderSubject(p, s));
    subjects.push({ kind: "lock", name: p.name, role: p.kind, site: p.site });
    steps.push({ text: `task "${holder}" acquired ${label(p)}${h.mode ? ` for ${h.mode}` : ""}`, site: h.site });
    steps.push(...bodySteps(h));
    const writer = behind.find((a) => a.mode === "write" || a.need > 1);
    steps.push({
      text: `inside it, ${label(p)} is acquired again${w.mode ? ` for ${w.mode}` : ""} and awaited${writer ? `, behind the queued ${writer.mode === "write" ? "writer" : `request for ${writer.need} permits`} "${taskLabel(writer.task, writer)}" that waits for the first hold` : ""}: it waits for itself`,
      site: w.site,
    });
    const held = p.kind === "mutex" || p.kind === "rwlock" ? "while it holds it" : `while it holds ${own} of its ${p._capacity} permits`;
    const chain = chainText(chainOf(h.body));
    return createDiagnosis({
      rule: "deadlock-reentrant",
      certainty: "proven",
      summary: `task "${holder}" acquires ${label(p)} again ${held}${writer ? ` (queued behind a ${writer.mode === "write" ? "writer" : "larger request"} that waits for it: the queue is served in order)` : ""} and awaits it${chain ? ` (through ${chain})` : ""}: it would wait for itself for ever`,
      subjects,
      steps,
      site: w.site,
      fix: `do not acquire ${label(p)} again inside its own critical section: pass what it protects (the lease, the connection) down, or split the inner function into a variant that expects the lock to be held${writer ? "; a reader must not ask for a second read while a writer may queue" : ""}`,
      data: { permitsHeld: own, permitsWanted: w.need, capacity: p._capacity },
    });
  }

  const holds = [...knot.holdLeaves.keys()];
  if (exhaustion) {
    const names = [...new Set(p._holds.map((h) => holderName(h)))];
    const list = names.map((n) => `"${n}"`).join(", ");
    subjects.unshift({ kind: "lock", name: p.name, role: p.kind, site: p.site });
    for (const h of p._holds) subjects.push(holderSubject(p, h));
    for (const h of p._holds) {
      const inner = [...(knot.holdLeaves.get(h) ?? [])].find((l) => l.prim === p);
      steps.push({
        text: `task "${holderName(h)}" holds ${h.permits} of ${label(p)} and awaits another${chainText(chainOf(h.body)) ? ` (through ${chainText(chainOf(h.body))})` : ""}`,
        site: inner?.site ?? h.site,
      });
    }
    return createDiagnosis({
      rule: "pool-exhaustion",
      certainty: "proven",
      summary: `all ${p._capacity} permits of ${label(p)} are held by tasks that each await another permit of it (${list}): none can ever be released`,
      subjects,
      steps,
      site: w.site,
      fix: `pass the ${p.kind === "pool" ? "connection" : "permit"} you already hold down to the nested call instead of acquiring another; a ${p.kind} of ${p._capacity} cannot serve ${p._capacity} holders that each want one more`,
      data: { capacity: p._capacity, holders: names.length },
    });
  }

  const names: string[] = [me];
  const locks: Primitive[] = [p];
  steps.push({ text: `task "${me}" waits for ${label(p)}`, site: w.site });
  if (path !== undefined) {
    for (const hop of path) {
      if (hop.via === "queue") {
        steps.push({ text: `${label(hop.from.prim)} serves its queue in order: "${taskLabel(hop.to.task, hop.to)}" is ahead`, site: hop.to.site });
        continue;
      }
      const h = hop.hold!;
      const holder = holderName(h);
      names.push(holder);
      subjects.push(holderSubject(hop.from.prim, h));
      steps.push({ text: `${label(hop.from.prim)} is held by task "${holder}"`, site: h.site });
      steps.push(...bodySteps(h));
      steps.push({
        text: `task "${holder}" waits for ${label(hop.to.prim)}${hop.to === w ? ", which is step 1: the cycle is closed" : ""}`,
        site: hop.to.site,
      });
      if (!locks.includes(hop.to.prim)) locks.push(hop.to.prim);
    }
  } else {
    steps.push({ text: `every holder of ${label(p)} waits, through what it awaits, on tasks that are deadlocked with each other` });
    for (const h of holds) subjects.push(holderSubject(h.target, h));
  }
  if (locks.length === 2) noteProvenPair(locks[0]!.name, locks[1]!.name);
  return createDiagnosis({
    rule: "deadlock-cycle",
    certainty: "proven",
    summary: path
      ? `wait-for cycle: ${[...new Set(names)].map((n) => `"${n}"`).join(" and ")} wait for each other on ${locks.map(label).join(", ")}: none can ever proceed`
      : `task "${me}" waits for ${label(p)}, whose holders are stuck in a deadlock: it can never be granted`,
    subjects: [...subjects, ...locks.map((l) => ({ kind: "lock" as const, name: l.name, role: l.kind, site: l.site }))],
    steps,
    site: w.site,
    fix:
      locks.length > 1
        ? `the locks are taken in opposite orders: take ${locks.map(label).join(" and ")} in one order everywhere (lockAll([...]) takes them in one canonical order), or release one before taking the other`
        : `take the locks in one canonical order everywhere (lockAll), or release one before taking another`,
    data: { length: path?.filter((h) => h.via === "hold").length ?? 0 },
  });
}

/** A knot as the contexts suggest it: what a report says before (or without) a proof. */
export interface Suspicion {
  readonly rule: "deadlock-reentrant" | "deadlock-cycle" | "pool-exhaustion";
  readonly summary: string;
  readonly steps: Step[];
  readonly fix: string;
}

/** The record and the scopes it runs inside, innermost first (stops at a spawned task). */
function inChain(record: TaskRecord | undefined, member: TaskRecord): boolean {
  for (let t = record; t !== undefined; t = t.kind === "scope" && !t.detached ? t.parent : undefined) if (t === member) return true;
  return false;
}

/** Every queued waiter whose context is inside `holder`'s scope. */
function waitsInside(holder: TaskRecord, all: readonly Waiter[]): Waiter[] {
  return all.filter((x) => !x.done && inChain(x.task, holder));
}

/**
 * How `w`'s wait looks if the requests made inside each holder's context are what it waits
 * for: a re-entrant acquire, pool exhaustion or a cycle. A suspicion, never a proof: the
 * holder may not await what was asked for in its context.
 */
export function suspectKnot(w: Waiter): Suspicion | undefined {
  const p = w.prim;
  if (p._holds.length === 0) return undefined;
  const all: Waiter[] = [];
  for (const q of livePrimitives()) for (const x of q._queue) all.push(x);
  if (p._holds.some((h) => h.scoped && h.task !== undefined && inChain(w.task, h.task))) {
    const h = p._holds.find((x) => x.scoped && x.task !== undefined && inChain(w.task, x.task))!;
    return {
      rule: "deadlock-reentrant",
      summary: `it looks like a re-entrant acquire: the wait was requested inside the section of "${taskLabel(h.task, h)}", which holds ${label(p)} (acquired ${h.site ? "at the site below" : "earlier"}); if that section awaits it, it waits for itself`,
      steps: [
        { text: `task "${taskLabel(h.task, h)}" acquired ${label(p)}`, site: h.site },
        { text: `inside its section, ${label(p)} was requested again`, site: w.site },
      ],
      fix: `if the section awaits this acquire, do not acquire ${label(p)} again inside it: pass what it protects down; if it does not await it (a follow-up job), this is only a long wait`,
    };
  }
  // follow holders to what is requested inside their sections, looking for the way back to w
  const seen = new Set<Primitive>([p]);
  const steps: Step[] = [];
  let frontier: Primitive[] = [p];
  for (let depth = 0; depth < 16 && frontier.length > 0; depth++) {
    const next: Primitive[] = [];
    for (const q of frontier) {
      for (const h of q._holds) {
        if (!h.scoped || h.task === undefined) return undefined;
        const inside = waitsInside(h.task, all);
        if (inside.length === 0) return undefined;
        steps.push({
          text: `${label(q)} is held by "${taskLabel(h.task, h)}", inside whose section ${inside.map((x) => label(x.prim)).join(", ")} is requested`,
          site: inside[0]!.site ?? h.site,
        });
        for (const x of inside) {
          if (!seen.has(x.prim)) {
            seen.add(x.prim);
            next.push(x.prim);
          }
        }
      }
    }
    frontier = next;
  }
  const allAskP =
    p.kind !== "mutex" &&
    p.kind !== "rwlock" &&
    p._holds.length > 1 &&
    p._holds.every((h) => h.task !== undefined && waitsInside(h.task, all).some((x) => x.prim === p));
  if (allAskP) {
    return {
      rule: "pool-exhaustion",
      summary: `it looks like pool exhaustion: every holder of ${label(p)} has requested another permit of it inside its section; if each awaits it, none can ever be released`,
      steps,
      fix: `pass the ${p.kind === "pool" ? "connection" : "permit"} you already hold down to the nested call instead of acquiring another`,
    };
  }
  return {
    rule: "deadlock-cycle",
    summary: `it looks like a wait-for cycle: every holder on the way (${steps.length} step${steps.length === 1 ? "" : "s"}) has a request pending inside its section; if each awaits its request, none can proceed`,
    steps,
    fix: `take the locks in one canonical order everywhere (lockAll), or release one before taking another`,
  };
}

/** Every holder a waiter's primitive has, as subjects (the drain's and long wait's reports). */
export function holderSubjects(p: Primitive): Subject[] {
  return p._holds.map((h) => holderSubject(p, h));
}
