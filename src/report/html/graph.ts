/**
 * The wait-for graph as data, apart from its drawing: built from a snapshot (live) or from one
 * deadlock finding, with every node and edge on a cycle marked.
 */
import type { Diagnosis, Subject } from "../../core/diagnosis.js";
import type { LockPartySnapshot, LockSnapshot, TaskSnapshot } from "../../core/registry.js";
import { formatSite } from "../../core/site.js";
import type { Site } from "../../core/site.js";
import { fmtMs } from "./markup.js";

/** A task (circle) or a primitive (box) of a wait-for graph. */
export interface GNode {
  readonly key: string;
  readonly kind: "task" | "lock";
  readonly label: string;
  readonly sub: string;
  readonly site: Site | undefined;
  cycle: boolean;
}

/** An arrow of a wait-for graph. */
export interface GEdge {
  readonly from: string;
  readonly to: string;
  /** wait: task → primitive; hold: primitive → its holder (so a path follows who waits for whom). */
  readonly kind: "wait" | "hold";
  readonly label: string;
  /** A hold that concurrent code of the same task may still release (a bare acquire): never part of a cycle. */
  readonly uncertain: boolean;
  cycle: boolean;
}

/** A wait-for graph: tasks and primitives, the waits and holds between them, and which lie on a cycle. */
export class Graph {
  readonly nodes = new Map<string, GNode>();
  readonly edges: GEdge[] = [];
  readonly #edgeKeys = new Set<string>();

  node(key: string, kind: "task" | "lock", label: string, sub: string, site: Site | undefined): string {
    if (!this.nodes.has(key)) this.nodes.set(key, { key, kind, label, sub, site, cycle: false });
    return key;
  }

  edge(from: string, to: string, kind: "wait" | "hold", label: string, uncertain = false): void {
    const k = `${from}\0${to}\0${kind}`;
    if (this.#edgeKeys.has(k)) return;
    this.#edgeKeys.add(k);
    this.edges.push({ from, to, kind, label, uncertain, cycle: false });
  }

  /** Marks every node and edge that lies on a cycle (Tarjan's strongly connected components). */
  markCycles(): void {
    const out = new Map<string, string[]>();
    // an uncertain hold may still be released: it cannot close a deadlock
    for (const e of this.edges) if (!e.uncertain) (out.get(e.from) ?? out.set(e.from, []).get(e.from)!).push(e.to);
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    const comp = new Map<string, number>();
    let counter = 0;
    let compId = 0;
    // iterative, so a long chain of waiters cannot overflow the stack
    for (const start of this.nodes.keys()) {
      if (index.has(start)) continue;
      const work: Array<[string, number]> = [[start, 0]];
      while (work.length > 0) {
        const top = work[work.length - 1]!;
        const [v, i] = top;
        if (i === 0) {
          index.set(v, counter);
          low.set(v, counter);
          counter++;
          stack.push(v);
          onStack.add(v);
        }
        const succ = out.get(v) ?? [];
        if (i < succ.length) {
          top[1] = i + 1;
          const w = succ[i]!;
          if (!index.has(w)) work.push([w, 0]);
          else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
          continue;
        }
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low.set(parent[0], Math.min(low.get(parent[0])!, low.get(v)!));
        if (low.get(v) === index.get(v)) {
          let w: string;
          do {
            w = stack.pop()!;
            onStack.delete(w);
            comp.set(w, compId);
          } while (w !== v);
          compId++;
        }
      }
    }
    const size = new Map<number, number>();
    for (const c of comp.values()) size.set(c, (size.get(c) ?? 0) + 1);
    for (const e of this.edges) {
      const c = comp.get(e.from);
      if (!e.uncertain && c !== undefined && c === comp.get(e.to) && (size.get(c)! > 1 || e.from === e.to)) {
        e.cycle = true;
        this.nodes.get(e.from)!.cycle = true;
        this.nodes.get(e.to)!.cycle = true;
      }
    }
  }
}

function partyTaskKey(g: Graph, p: LockPartySnapshot, lockId: number, i: number, role: string, tasks: Map<number, TaskSnapshot>): string {
  if (typeof p.taskId === "number") {
    const t = tasks.get(p.taskId);
    return g.node(`t:${p.taskId}`, "task", p.taskName ?? t?.name ?? `task#${p.taskId}`, t?.state ?? "", t?.site ?? p.site);
  }
  if (typeof p.taskName === "string") return g.node(`tn:${p.taskName}`, "task", p.taskName, "", p.site);
  // a bare acquire outside every task: its own anonymous node
  return g.node(`anon:${lockId}:${role}:${i}`, "task", "(no task)", "", p.site);
}

function partyLabel(p: LockPartySnapshot, verb: string): string {
  const parts = [verb];
  if (p.permits !== 1 && typeof p.permits === "number") parts.push(`${p.permits} permits`);
  if (p.mode) parts.push(p.mode);
  if (typeof p.forMs === "number") parts.push(`for ${fmtMs(p.forMs)}`);
  if (p.site) parts.push(`at ${formatSite(p.site)}`);
  return parts.join(", ").replace(/, for /, " for ");
}

/** The live graph of a snapshot: every primitive with its holders and waiters, and what each task says it waits on and holds. */
export function buildLiveGraph(tasks: readonly TaskSnapshot[], locks: readonly LockSnapshot[]): Graph {
  const g = new Graph();
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const lockByName = new Map<string, LockSnapshot | null>();
  for (const l of locks) lockByName.set(`${l.kind}\0${l.name}`, lockByName.has(`${l.kind}\0${l.name}`) ? null : l);
  for (const l of locks) {
    const lk = g.node(`l:${l.id}`, "lock", l.name, `${l.kind} ${l.holders.length}/${l.capacity}`, l.site);
    l.holders.forEach((h, i) =>
      g.edge(lk, partyTaskKey(g, h, l.id, i, "h", byId), "hold", partyLabel(h, h.scoped === false ? "held (bare acquire)" : "held"), h.scoped === false),
    );
    l.waiters.forEach((w, i) => g.edge(partyTaskKey(g, w, l.id, i, "w", byId), lk, "wait", partyLabel(w, "waits")));
  }
  // tasks say what they wait on and hold; this also covers primitives missing from the locks list
  const lockKey = (kind: string, name: string) => {
    const l = lockByName.get(`${kind}\0${name}`);
    return l ? `l:${l.id}` : g.node(`ln:${kind}\0${name}`, "lock", name, kind, undefined);
  };
  for (const t of tasks) {
    if (!t.waitingOn && t.holds.length === 0) continue;
    const tk = g.node(`t:${t.id}`, "task", t.name, t.state, t.site);
    if (t.waitingOn) g.edge(tk, lockKey(t.waitingOn.kind, t.waitingOn.name), "wait", `waits for ${fmtMs(t.waitingOn.forMs)}`);
    for (const h of t.holds) g.edge(lockKey(h.kind, h.name), tk, "hold", `held by${h.site ? ` at ${formatSite(h.site)}` : ""}`);
  }
  g.markCycles();
  return g;
}

// a finding of these rules is a cycle that can be drawn
export const deadlockRules = new Set(["deadlock-cycle", "deadlock-reentrant", "pool-exhaustion"]);

/**
 * The cycle of one deadlock finding, from its subjects. A task's role names what it waits for or
 * holds (`waits for mutex "a"`, `holds pool "db", acquired here`): those are its edges. For
 * re-entrance and pool exhaustion every task holds the one primitive and waits on it again.
 */
export function buildDiagnosisGraph(d: Diagnosis): Graph | undefined {
  const locks = d.subjects.filter((s) => s.kind === "lock");
  const tasks = d.subjects.filter((s) => s.kind === "task");
  if (locks.length === 0 || tasks.length === 0) return undefined;
  const g = new Graph();
  const lockKey = (l: Subject) => g.node(`lock:${l.name}`, "lock", l.name, l.role ?? "", l.site);
  const taskKey = (t: Subject) => g.node(`task:${t.name}`, "task", t.name, "", t.site);
  const onePrimitive = d.rule === "deadlock-reentrant" || d.rule === "pool-exhaustion";
  for (const t of tasks) {
    const role = (t.role ?? "").toLowerCase();
    const named = locks.filter((l) => (t.role ?? "").includes(`"${l.name}"`));
    const targets = named.length > 0 ? named : locks.length === 1 ? locks : [];
    for (const l of targets) {
      if (onePrimitive || role.includes("hold") || role.includes("held")) g.edge(lockKey(l), taskKey(t), "hold", t.role ?? "holds");
      if (onePrimitive || role.includes("wait")) g.edge(taskKey(t), lockKey(l), "wait", t.role ?? "waits");
    }
  }
  // the steps tell the cycle in forward order: `task "a" waits for mutex "x"`, `mutex "x" is held by task "b"`
  for (const step of d.steps ?? []) {
    for (const t of tasks) {
      const w = step.text.indexOf(`task "${t.name}" waits for `);
      for (const l of locks) {
        if (w !== -1 && step.text.indexOf(`"${l.name}"`, w + t.name.length + 7) !== -1) g.edge(taskKey(t), lockKey(l), "wait", step.text);
        if (step.text.includes(`"${l.name}" is held by task "${t.name}"`)) g.edge(lockKey(l), taskKey(t), "hold", step.text);
      }
    }
  }
  if (g.edges.length === 0) return undefined;
  g.markCycles();
  return g;
}

/** Orders nodes so each cycle's members sit next to each other on the circle. */
export function orderNodes(g: Graph): GNode[] {
  const out = new Map<string, string[]>();
  for (const e of g.edges) (out.get(e.from) ?? out.set(e.from, []).get(e.from)!).push(e.to);
  const seen = new Set<string>();
  const order: GNode[] = [];
  const visit = (start: string) => {
    const stack = [start];
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (seen.has(k)) continue;
      seen.add(k);
      order.push(g.nodes.get(k)!);
      const next = (out.get(k) ?? []).filter((n) => !seen.has(n));
      // cycle members first, so the ring follows the cycle
      next.sort((a, b) => Number(g.nodes.get(a)!.cycle) - Number(g.nodes.get(b)!.cycle));
      stack.push(...next);
    }
  };
  for (const n of g.nodes.values()) if (n.cycle) visit(n.key);
  for (const n of g.nodes.values()) visit(n.key);
  return order;
}
