/**
 * The HTML report: one self-contained page (inline CSS, SVG and a little JS; nothing fetched)
 * with the wait-for graph and its cycles highlighted, the task tree, a timeline of waits and
 * holds, the primitives, the open resources and every Diagnosis with its sites.
 *
 * Every name on the page comes from user code, so every piece of text goes through `esc()`.
 */
import type { Diagnosis, Subject } from "../core/diagnosis.js";
import type { LockPartySnapshot, LockSnapshot, ResourceSnapshot, Snapshot, TaskSnapshot } from "../core/registry.js";
import { formatSite, sourceLine } from "../core/site.js";
import type { Site } from "../core/site.js";
import { InvalidArgTypeError, validateObject, validateOptionalString } from "../core/validate.js";
import type { TimelineEvent } from "../diagnose/timeline.js";
import { ruleTitle } from "./text.js";

/** What {@link renderHtml} draws. */
export interface HtmlReportInput {
  /** The findings, e.g. what the exit report or `dump()` collected. */
  readonly diagnoses: readonly Diagnosis[];
  /** The live state (`snapshot()`), with its `locks` and `resources` sections when present. */
  readonly snapshot: Snapshot;
  /** Events from a {@link TimelineRecorder}, oldest first. */
  readonly timeline?: readonly TimelineEvent[] | undefined;
  /** The page title (default "asyncdoctor report"). */
  readonly title?: string | undefined;
  /** Show the source line under each site (default true). */
  readonly sourceLines?: boolean | undefined;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const esc = escapeHtml;

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(value, (_k, v: unknown) =>
      v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? String(v) : v,
    );
  } catch {
    json = "null";
  }
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function trunc(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

// --- input normalisation: sections are `unknown` in Snapshot, so read them defensively ---

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object";
}

function arr<T>(v: unknown, ok: (x: unknown) => boolean): T[] {
  return Array.isArray(v) ? (v.filter(ok) as T[]) : [];
}

const isTask = (v: unknown) => isObj(v) && typeof v.id === "number" && typeof v.name === "string";
const isLock = (v: unknown) => isObj(v) && typeof v.id === "number" && typeof v.name === "string";
const isResource = (v: unknown) => isObj(v) && typeof v.name === "string";

function siteOf(v: unknown): Site | undefined {
  return isObj(v) && typeof v.file === "string" && typeof v.line === "number" ? (v as unknown as Site) : undefined;
}

// --- the wait-for graph ---

interface GNode {
  readonly key: string;
  readonly kind: "task" | "lock";
  readonly label: string;
  readonly sub: string;
  readonly site: Site | undefined;
  cycle: boolean;
}

interface GEdge {
  readonly from: string;
  readonly to: string;
  /** wait: task → primitive; hold: primitive → its holder (so a path follows who waits for whom). */
  readonly kind: "wait" | "hold";
  readonly label: string;
  /** A hold that concurrent code of the same task may still release (a bare acquire): never part of a cycle. */
  readonly uncertain: boolean;
  cycle: boolean;
}

class Graph {
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

function buildLiveGraph(tasks: readonly TaskSnapshot[], locks: readonly LockSnapshot[]): Graph {
  const g = new Graph();
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const lockByName = new Map<string, LockSnapshot | null>();
  for (const l of locks) lockByName.set(`${l.kind}\0${l.name}`, lockByName.has(`${l.kind}\0${l.name}`) ? null : l);
  for (const l of locks) {
    const lk = g.node(`l:${l.id}`, "lock", l.name, `${l.kind} ${l.holders.length}/${l.capacity}`, l.site);
    arr<LockPartySnapshot>(l.holders, isObj).forEach((h, i) =>
      g.edge(lk, partyTaskKey(g, h, l.id, i, "h", byId), "hold", partyLabel(h, h.scoped === false ? "held (bare acquire)" : "held"), h.scoped === false),
    );
    arr<LockPartySnapshot>(l.waiters, isObj).forEach((w, i) => g.edge(partyTaskKey(g, w, l.id, i, "w", byId), lk, "wait", partyLabel(w, "waits")));
  }
  // tasks say what they wait on and hold; this also covers primitives without a locks section
  const lockKey = (kind: string, name: string) => {
    const l = lockByName.get(`${kind}\0${name}`);
    return l ? `l:${l.id}` : g.node(`ln:${kind}\0${name}`, "lock", name, kind, undefined);
  };
  for (const t of tasks) {
    if (!t.waitingOn && (t.holds?.length ?? 0) === 0) continue;
    const tk = g.node(`t:${t.id}`, "task", t.name, t.state, t.site);
    if (t.waitingOn) g.edge(tk, lockKey(t.waitingOn.kind, t.waitingOn.name), "wait", `waits for ${fmtMs(t.waitingOn.forMs)}`);
    for (const h of t.holds ?? []) g.edge(lockKey(h.kind, h.name), tk, "hold", `held by${h.site ? ` at ${formatSite(h.site)}` : ""}`);
  }
  g.markCycles();
  return g;
}

// a finding of these rules is a cycle that can be drawn
const deadlockRules = new Set(["deadlock-cycle", "deadlock-reentrant", "pool-exhaustion"]);

/**
 * The cycle of one deadlock finding, from its subjects. A task's role names what it waits for or
 * holds (`waits for mutex "a"`, `holds pool "db", acquired here`): those are its edges. For
 * re-entrance and pool exhaustion every task holds the one primitive and waits on it again.
 */
function buildDiagnosisGraph(d: Diagnosis): Graph | undefined {
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
function orderNodes(g: Graph): GNode[] {
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

const MAX_NODES = 150;

function renderGraphSvg(g: Graph, id: string): string {
  // a primitive nobody holds or waits on says nothing about waiting: the table lists it
  const linked = new Set(g.edges.flatMap((e) => [e.from, e.to]));
  let nodes = orderNodes(g).filter((node) => linked.has(node.key));
  let note = "";
  if (nodes.length > MAX_NODES) {
    note = `<p class="note">Showing ${MAX_NODES} of ${nodes.length} nodes (cycles first).</p>`;
    nodes = nodes.slice(0, MAX_NODES);
  }
  if (nodes.length === 0) return `<p class="empty">No task waits on or holds a primitive.</p>`;
  const n = nodes.length;
  const radius = n === 1 ? 0 : Math.max(110, (n * 120) / (2 * Math.PI));
  const pad = 110;
  const size = 2 * (radius + pad);
  const c = size / 2;
  const pos = new Map<string, { x: number; y: number }>();
  nodes.forEach((node, i) => {
    const a = (2 * Math.PI * i) / n - Math.PI / 2;
    pos.set(node.key, { x: c + radius * Math.cos(a), y: c + radius * Math.sin(a) });
  });
  const parts: string[] = [];
  parts.push(
    `<svg class="graph" id="${esc(id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size.toFixed(0)} ${size.toFixed(0)}" width="${Math.min(size, 900).toFixed(0)}" role="img" aria-label="wait-for graph">`,
    `<defs>`,
    `<marker id="${esc(id)}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow"/></marker>`,
    `<marker id="${esc(id)}-arrow-cycle" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow cycle"/></marker>`,
    `</defs>`,
  );
  const R = 26;
  for (const e of g.edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    const cls = `edge ${e.kind}${e.cycle ? " cycle" : ""}${e.uncertain ? " uncertain" : ""}`;
    const marker = `url(#${esc(id)}-arrow${e.cycle ? "-cycle" : ""})`;
    let d: string;
    if (e.from === e.to) {
      d = `M${(a.x - 10).toFixed(1)},${(a.y - R).toFixed(1)} C${(a.x - 50).toFixed(1)},${(a.y - 90).toFixed(1)} ${(a.x + 50).toFixed(1)},${(a.y - 90).toFixed(1)} ${(a.x + 10).toFixed(1)},${(a.y - R).toFixed(1)}`;
    } else {
      // a slight bend to one side, so opposite edges between the same nodes do not overlap
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const len = Math.hypot(dx, dy) || 1;
      const ux = dx / len;
      const uy = dy / len;
      const sx = a.x + ux * R;
      const sy = a.y + uy * R;
      const ex = b.x - ux * (R + 2);
      const ey = b.y - uy * (R + 2);
      const bend = Math.min(40, len * 0.15);
      const mx = (sx + ex) / 2 - uy * bend;
      const my = (sy + ey) / 2 + ux * bend;
      d = `M${sx.toFixed(1)},${sy.toFixed(1)} Q${mx.toFixed(1)},${my.toFixed(1)} ${ex.toFixed(1)},${ey.toFixed(1)}`;
    }
    parts.push(
      `<path class="${cls}" d="${d}" marker-end="${marker}" data-from="${esc(e.from)}" data-to="${esc(e.to)}"><title>${esc(e.label)}</title></path>`,
    );
  }
  for (const node of nodes) {
    const p = pos.get(node.key)!;
    const cls = `node ${node.kind}${node.cycle ? " cycle" : ""}`;
    const shape =
      node.kind === "task"
        ? `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="${R}"/>`
        : `<rect x="${(p.x - R).toFixed(1)}" y="${(p.y - R * 0.8).toFixed(1)}" width="${2 * R}" height="${(1.6 * R).toFixed(1)}" rx="4"/>`;
    const tip = `${node.kind} "${node.label}"${node.sub ? ` (${node.sub})` : ""}${node.site ? ` at ${formatSite(node.site)}` : ""}`;
    parts.push(
      `<g class="${cls}" data-key="${esc(node.key)}" tabindex="0"><title>${esc(tip)}</title>${shape}`,
      `<text x="${p.x.toFixed(1)}" y="${(p.y + R + 14).toFixed(1)}" text-anchor="middle" class="label">${esc(trunc(node.label, 28))}</text>`,
      `<text x="${p.x.toFixed(1)}" y="${(p.y + 4).toFixed(1)}" text-anchor="middle" class="kind">${node.kind === "task" ? "task" : esc(trunc(node.sub.split(" ")[0] ?? "", 9))}</text>`,
      `</g>`,
    );
  }
  parts.push(`</svg>`);
  return note + parts.join("");
}

// --- sections ---

function siteHtml(site: Site | undefined, withSource: boolean): string {
  if (!site) return "";
  const src = withSource ? sourceLine(site) : undefined;
  return `<span class="site">${esc(formatSite(site))}</span>${src ? `<pre class="src"><span class="ln">${site.line}</span> ${esc(src)}</pre>` : ""}`;
}

function diagnosisHtml(d: Diagnosis, i: number, withSource: boolean): string {
  const out: string[] = [];
  out.push(`<article class="diagnosis ${esc(d.certainty)}" id="diagnosis-${i}">`);
  out.push(
    `<h3><span class="badge ${esc(d.certainty)}">${esc(d.certainty.toUpperCase())}</span> ${esc(ruleTitle(d.rule))} <code>[${esc(d.rule)}]</code>${d.retracts ? ` <span class="retract">retracts ${esc(d.retracts)}</span>` : ""}</h3>`,
  );
  out.push(`<p class="summary">${esc(d.summary)}</p>`);
  if (d.site) out.push(`<div class="at">at ${siteHtml(d.site, withSource)}</div>`);
  if (d.steps && d.steps.length > 0) {
    out.push(`<ol class="steps">`);
    for (const s of d.steps) out.push(`<li>${esc(s.text)}${s.site ? ` <span class="dim">at</span> ${siteHtml(s.site, withSource)}` : ""}</li>`);
    out.push(`</ol>`);
  }
  if (d.subjects.length > 0) {
    out.push(`<ul class="subjects">`);
    for (const s of d.subjects) {
      out.push(
        `<li>${s.role ? `<span class="role">${esc(s.role)}:</span> ` : ""}${esc(s.kind)} <b>${esc(s.name)}</b>${s.detail ? ` <span class="dim">(${esc(s.detail)})</span>` : ""}${s.site ? ` <span class="dim">at</span> ${siteHtml(s.site, withSource)}` : ""}</li>`,
      );
    }
    out.push(`</ul>`);
  }
  if (deadlockRules.has(d.rule)) {
    const g = buildDiagnosisGraph(d);
    if (g) out.push(`<div class="mini">${renderGraphSvg(g, `diagnosis-graph-${i}`)}</div>`);
  }
  if (d.fix) out.push(`<p class="fix"><b>fix:</b> ${esc(d.fix)}</p>`);
  out.push(`</article>`);
  return out.join("\n");
}

interface TreeTask {
  readonly id: number;
  readonly name: string;
  readonly state: string;
  readonly parentId: number | undefined;
  readonly site: Site | undefined;
  readonly detail: string;
  readonly live: boolean;
}

function taskTreeHtml(tasks: readonly TaskSnapshot[], timeline: readonly TimelineEvent[]): string {
  const all = new Map<number, TreeTask>();
  for (const t of tasks) {
    const bits = [`age ${fmtMs(t.ageMs)}`];
    if (t.waitingOn) bits.push(`waiting on ${t.waitingOn.kind} "${t.waitingOn.name}" for ${fmtMs(t.waitingOn.forMs)}`);
    if (t.holds?.length) bits.push(`holds ${t.holds.map((h) => `${h.kind} "${h.name}"`).join(", ")}`);
    all.set(t.id, { id: t.id, name: t.name, state: t.state, parentId: t.parentId, site: t.site, detail: bits.join("; "), live: true });
  }
  // tasks the timeline saw that are no longer live: settled, shown with their final state
  const spawned = new Map<number, TimelineEvent>();
  const settled = new Map<number, TimelineEvent>();
  for (const e of timeline) {
    if (e.taskId === undefined) continue;
    if (e.kind === "spawn") spawned.set(e.taskId, e);
    else if (e.kind === "settle") settled.set(e.taskId, e);
  }
  for (const [id, s] of spawned) {
    if (all.has(id)) continue;
    const end = settled.get(id);
    all.set(id, {
      id,
      name: s.taskName ?? `task#${id}`,
      state: end?.state ?? "unknown",
      parentId: s.parentId,
      site: s.site,
      detail: end ? `ran ${fmtMs(end.time - s.time)}` : "",
      live: false,
    });
  }
  if (all.size === 0) return `<p class="empty">No tracked tasks.</p>`;
  const children = new Map<number | undefined, TreeTask[]>();
  for (const t of all.values()) {
    const parent = t.parentId !== undefined && all.has(t.parentId) ? t.parentId : undefined;
    (children.get(parent) ?? children.set(parent, []).get(parent)!).push(t);
  }
  const render = (parent: number | undefined, depth: number): string => {
    const list = children.get(parent);
    if (!list || depth > 64) return "";
    list.sort((a, b) => a.id - b.id);
    return `<ul class="tree">${list
      .map(
        (t) =>
          `<li><span class="state ${esc(t.state)}">${esc(t.state)}</span> <b>${esc(t.name)}</b> <span class="dim">#${t.id}${t.detail ? ` · ${esc(t.detail)}` : ""}${t.site ? ` · ${esc(formatSite(t.site))}` : ""}</span>${render(t.id, depth + 1)}</li>`,
      )
      .join("")}</ul>`;
  };
  return render(undefined, 0);
}

interface Bar {
  readonly kind: "wait" | "hold" | "life";
  readonly start: number;
  end: number;
  open: boolean;
  readonly label: string;
}

function timelineHtml(events: readonly TimelineEvent[], endTime: number): string {
  if (events.length === 0) {
    return `<p class="empty">No timeline recorded (start a <code>TimelineRecorder</code> to see acquires and waits).</p>`;
  }
  const t0 = events[0]!.time;
  const t1 = Math.max(endTime, events[events.length - 1]!.time, t0 + 1);
  const lanes = new Map<string, { name: string; bars: Bar[]; marks: Array<{ t: number; label: string; kind: string }> }>();
  // a runExclusive/use scope is drawn in the lane of the task it runs in
  const lane = (e: TimelineEvent) => {
    const id = e.ownerId ?? e.taskId;
    const k = id !== undefined ? `t${id}` : `n${e.taskName ?? "(no task)"}`;
    let l = lanes.get(k);
    const name = e.ownerName ?? e.taskName ?? (id !== undefined ? `task#${id}` : "(no task)");
    if (!l) lanes.set(k, (l = { name, bars: [], marks: [] }));
    return l;
  };
  const open = new Map<string, Bar>();
  for (const e of events) {
    const l = lane(e);
    const who = `${e.taskId ?? e.taskName ?? "?"}`;
    const lockLabel = `${e.lockKind ?? "lock"} "${e.lockName ?? "?"}"`;
    const lk = `${who}\0${e.lockId ?? e.lockName}`;
    switch (e.kind) {
      case "spawn": {
        const b: Bar = { kind: "life", start: e.time, end: t1, open: true, label: `task "${l.name}" running` };
        l.bars.push(b);
        open.set(`${who}\0life`, b);
        break;
      }
      case "settle": {
        const b = open.get(`${who}\0life`);
        if (b) {
          b.end = e.time;
          b.open = false;
        }
        l.marks.push({ t: e.time, label: `settled: ${e.state ?? "?"}`, kind: e.state ?? "settle" });
        break;
      }
      case "wait": {
        const b: Bar = { kind: "wait", start: e.time, end: t1, open: true, label: `waits for ${lockLabel}` };
        l.bars.push(b);
        open.set(`${lk}\0wait`, b);
        break;
      }
      case "acquire": {
        // a runExclusive/use acquire is made by a new scope: the wait was its parent's
        const parentKey = `${e.parentId ?? "?"}\0${e.lockId ?? e.lockName}\0wait`;
        const waitKey = open.has(`${lk}\0wait`) ? `${lk}\0wait` : parentKey;
        const w = open.get(waitKey);
        if (w) {
          w.end = e.time;
          w.open = false;
          open.delete(waitKey);
        }
        const b: Bar = { kind: "hold", start: e.time, end: t1, open: true, label: `holds ${lockLabel}` };
        l.bars.push(b);
        open.set(`${lk}\0hold`, b);
        break;
      }
      case "abandon": {
        const w = open.get(`${lk}\0wait`);
        if (w) {
          w.end = e.time;
          w.open = false;
          open.delete(`${lk}\0wait`);
        }
        l.marks.push({ t: e.time, label: `gave up waiting for ${lockLabel}: ${e.reason ?? "?"}`, kind: "abandon" });
        break;
      }
      case "release": {
        const h = open.get(`${lk}\0hold`);
        if (h) {
          h.end = e.time;
          h.open = false;
          open.delete(`${lk}\0hold`);
        } else {
          // a wait that ended without an acquire (timed out, aborted, rejected as a deadlock)
          const w = open.get(`${lk}\0wait`);
          if (w) {
            w.end = e.time;
            w.open = false;
            open.delete(`${lk}\0wait`);
          }
        }
        break;
      }
    }
  }
  const laneH = 26;
  const left = 170;
  const width = 900;
  const plot = width - left - 20;
  const rows = [...lanes.values()].slice(0, 200);
  const height = 30 + rows.length * laneH + 10;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * plot;
  const parts: string[] = [
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" role="img" aria-label="timeline">`,
  ];
  for (let i = 0; i <= 5; i++) {
    const t = t0 + ((t1 - t0) * i) / 5;
    parts.push(
      `<line class="tick" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="18" y2="${height}"/>`,
      `<text class="axis" x="${x(t).toFixed(1)}" y="12" text-anchor="middle">+${esc(fmtMs(t - t0))}</text>`,
    );
  }
  rows.forEach((r, i) => {
    const y = 24 + i * laneH;
    parts.push(`<text class="lane" x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(trunc(r.name, 24))}<title>${esc(r.name)}</title></text>`);
    for (const b of r.bars) {
      const bx = x(b.start);
      const bw = Math.max(2, x(b.end) - bx);
      const by = b.kind === "life" ? y + 10 : b.kind === "wait" ? y + 2 : y + 12;
      const bh = b.kind === "life" ? 2 : 9;
      const tip = `${b.label}: ${fmtMs(b.end - b.start)}${b.open ? " (still open)" : ""}`;
      parts.push(
        `<rect class="bar ${b.kind}${b.open ? " open" : ""}" x="${bx.toFixed(1)}" y="${by}" width="${bw.toFixed(1)}" height="${bh}"><title>${esc(tip)}</title></rect>`,
      );
    }
    for (const m of r.marks) {
      parts.push(`<circle class="mark ${esc(m.kind)}" cx="${x(m.t).toFixed(1)}" cy="${y + 11}" r="3.5"><title>${esc(m.label)}</title></circle>`);
    }
  });
  parts.push(`</svg>`);
  const list = events
    .slice(-300)
    .map(
      (e) =>
        `<tr><td>+${esc(fmtMs(e.time - t0))}</td><td>${esc(e.kind)}${e.reason ? ` (${esc(e.reason)})` : ""}</td><td>${esc(e.taskName ?? (e.taskId !== undefined ? `task#${e.taskId}` : "(no task)"))}</td><td>${e.lockName !== undefined ? `${esc(e.lockKind ?? "")} ${esc(e.lockName)}` : e.state ? esc(e.state) : ""}</td><td>${e.site ? esc(formatSite(e.site)) : ""}</td></tr>`,
    )
    .join("");
  const more = rows.length < lanes.size ? `<p class="note">Showing 200 of ${lanes.size} tasks.</p>` : "";
  return `${more}<div class="legend"><span class="sw wait"></span>waiting <span class="sw hold"></span>holding <span class="sw life"></span>task alive</div>${parts.join("")}<details><summary>${events.length} events${events.length > 300 ? " (last 300 listed)" : ""}</summary><table class="events"><thead><tr><th>time</th><th>event</th><th>task</th><th>on</th><th>site</th></tr></thead><tbody>${list}</tbody></table></details>`;
}

function partyCell(ps: readonly LockPartySnapshot[]): string {
  if (ps.length === 0) return `<span class="dim">none</span>`;
  return ps
    .map(
      (p) =>
        `<div><b>${esc(p.taskName ?? (p.taskId !== undefined ? `task#${p.taskId}` : "(no task)"))}</b> <span class="dim">${esc(fmtMs(p.forMs))}${p.permits !== 1 ? ` · ${p.permits} permits` : ""}${p.mode ? ` · ${esc(p.mode)}` : ""}${p.site ? ` · ${esc(formatSite(p.site))}` : ""}</span></div>`,
    )
    .join("");
}

function locksHtml(locks: readonly LockSnapshot[]): string {
  if (locks.length === 0) return `<p class="empty">No live primitives.</p>`;
  const rows = locks
    .map((l) => {
      const holders = arr<LockPartySnapshot>(l.holders, isObj);
      const waiters = arr<LockPartySnapshot>(l.waiters, isObj);
      return `<tr><td><b>${esc(l.name)}</b></td><td>${esc(l.kind)}</td><td>${holders.length}/${esc(String(l.capacity))}</td><td>${partyCell(holders)}</td><td>${partyCell(waiters)}</td><td>${l.site ? esc(formatSite(l.site)) : ""}</td></tr>`;
    })
    .join("");
  return `<table><thead><tr><th>name</th><th>kind</th><th>held</th><th>holders</th><th>waiters</th><th>created at</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function resourcesHtml(resources: readonly ResourceSnapshot[]): string {
  if (resources.length === 0) return `<p class="empty">No open tracked resources.</p>`;
  const rows = resources
    .map(
      (r) =>
        `<tr><td><b>${esc(r.name)}</b></td><td>${esc(fmtMs(r.ageMs))}</td><td>${esc(r.taskName ?? "")}</td><td>${siteOf(r.site) ? esc(formatSite(r.site)) : ""}</td></tr>`,
    )
    .join("");
  return `<table><thead><tr><th>name</th><th>open for</th><th>opened by task</th><th>opened at</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const CSS = `
:root{--fg:#1d2330;--dim:#6b7280;--bg:#fff;--panel:#f6f7f9;--line:#d6dae1;--red:#c62828;--amber:#b26a00;--blue:#1f5fbf;--green:#2e7d32;--cyan:#00838f}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0;padding:0 24px 48px}
header{padding:18px 0 8px;border-bottom:1px solid var(--line);margin-bottom:12px}h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:0 0 6px}
.dim,.note,.empty{color:var(--dim)}code,.site,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
nav a{margin-right:14px;color:var(--blue);text-decoration:none}.counts span{margin-right:12px}
.badge{display:inline-block;padding:1px 7px;border-radius:4px;color:#fff;font-size:12px;font-weight:700}.badge.proven{background:var(--red)}.badge.observed{background:var(--amber)}.badge.potential{background:var(--cyan)}
.diagnosis{border:1px solid var(--line);border-left:5px solid var(--cyan);border-radius:6px;padding:10px 14px;margin:10px 0;background:var(--panel)}.diagnosis.proven{border-left-color:var(--red)}.diagnosis.observed{border-left-color:var(--amber)}
.summary{margin:4px 0 6px;font-weight:500}.fix{color:var(--green);margin:8px 0 0}.role{color:var(--dim)}.retract{color:var(--dim);font-size:12px}
pre.src{margin:2px 0 4px 0;padding:3px 8px;background:#eceff3;border-radius:3px;overflow-x:auto;white-space:pre}pre.src .ln{color:var(--dim)}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}th{background:var(--panel)}
ul.tree{list-style:none;padding-left:18px;margin:2px 0;border-left:1px dotted var(--line)}body>section>ul.tree{border-left:none;padding-left:0}
.state{display:inline-block;min-width:68px;font-size:12px;padding:0 5px;border-radius:3px;background:#e3e7ee;text-align:center}.state.pending{background:#fff3cd}.state.fulfilled{background:#dff3e1}.state.rejected{background:#fde0e0}.state.cancelled{background:#eee}
svg.graph{max-width:100%;height:auto;background:var(--panel);border:1px solid var(--line);border-radius:6px}
.node circle,.node rect{fill:#fff;stroke:var(--blue);stroke-width:2}.node.lock rect{stroke:#555}.node.cycle circle,.node.cycle rect{stroke:var(--red);stroke-width:3.5;fill:#fdecec}
.node text.label{font-size:12px;fill:var(--fg)}.node text.kind{font-size:10px;fill:var(--dim)}.node:focus{outline:none}.node.focus circle,.node.focus rect{stroke-width:5}
.edge{fill:none;stroke:#8a93a3;stroke-width:1.6}.edge.wait{stroke-dasharray:6 4}.edge.uncertain{stroke-dasharray:2 3;opacity:.7}.edge.cycle{stroke:var(--red);stroke-width:3}.edge.focus{stroke:var(--blue);stroke-width:3.5}.edge.cycle.focus{stroke:#7f0000}
.arrow{fill:#8a93a3}.arrow.cycle{fill:var(--red)}.mini svg.graph{max-width:420px}
svg.timeline{max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px;background:#fff}.tick{stroke:#eceff3}.axis,.lane{font-size:11px;fill:var(--dim)}.lane{fill:var(--fg)}
.bar.wait{fill:#f2a900}.bar.hold{fill:var(--blue)}.bar.life{fill:#9aa3b2}.bar.open{opacity:.65}.mark{fill:var(--green)}.mark.rejected,.mark.abandon{fill:var(--red)}.mark.cancelled{fill:#888}
.legend{font-size:12px;color:var(--dim);margin:4px 0}.sw{display:inline-block;width:14px;height:8px;margin:0 4px 0 10px;vertical-align:middle}.sw.wait{background:#f2a900}.sw.hold{background:var(--blue)}.sw.life{background:#9aa3b2;height:2px}
`;

// Clicking (or focusing) a node highlights its edges. Written defensively: it must never throw.
const SCRIPT = `
(function(){
  function clear(svg){svg.querySelectorAll('.focus').forEach(function(el){el.classList.remove('focus');});}
  document.querySelectorAll('svg.graph').forEach(function(svg){
    svg.querySelectorAll('g.node').forEach(function(g){
      function on(){
        clear(svg);
        var key=g.getAttribute('data-key');
        g.classList.add('focus');
        svg.querySelectorAll('path.edge').forEach(function(p){
          if(p.getAttribute('data-from')===key||p.getAttribute('data-to')===key)p.classList.add('focus');
        });
      }
      g.addEventListener('click',on);
      g.addEventListener('focus',on);
    });
  });
  document.documentElement.setAttribute('data-ready','1');
})();
`;

/**
 * Renders the live state and the findings as one self-contained HTML page.
 *
 * @example
 * ```ts
 * import { writeFileSync } from "node:fs";
 * import { renderHtml, snapshot, TimelineRecorder } from "asyncdoctor";
 * const timeline = new TimelineRecorder().start();
 * // … run the program, collecting Diagnoses with configure({ onDiagnosis }) …
 * writeFileSync("report.html", renderHtml({ diagnoses: found, snapshot: snapshot(), timeline: timeline.events() }));
 * ```
 */
export function renderHtml(input: HtmlReportInput): string {
  validateObject(input, "input");
  if (!Array.isArray(input.diagnoses)) throw new InvalidArgTypeError("input.diagnoses", "an array of Diagnosis", input.diagnoses);
  for (const [i, d] of input.diagnoses.entries()) {
    if (!isObj(d) || typeof d.rule !== "string" || typeof d.summary !== "string" || !Array.isArray(d.subjects)) {
      throw new InvalidArgTypeError(`input.diagnoses[${i}]`, "a Diagnosis", d);
    }
  }
  validateObject(input.snapshot, "input.snapshot");
  if (!Array.isArray(input.snapshot.tasks)) throw new InvalidArgTypeError("input.snapshot.tasks", "an array", input.snapshot.tasks);
  if (input.timeline !== undefined && !Array.isArray(input.timeline)) {
    throw new InvalidArgTypeError("input.timeline", "an array of TimelineEvent", input.timeline);
  }
  validateOptionalString(input.title, "input.title");
  if (input.sourceLines !== undefined && typeof input.sourceLines !== "boolean") {
    throw new InvalidArgTypeError("input.sourceLines", "of type boolean", input.sourceLines);
  }
  const withSource = input.sourceLines ?? true;
  const snap = input.snapshot;
  const tasks = arr<TaskSnapshot>(snap.tasks, isTask);
  const locks = arr<LockSnapshot>(snap.locks, isLock);
  const resources = arr<ResourceSnapshot>(snap.resources, isResource);
  const timeline = arr<TimelineEvent>(input.timeline, (e) => isObj(e) && typeof e.kind === "string" && typeof e.time === "number");
  const diagnoses = input.diagnoses;
  const title = input.title ?? "asyncdoctor report";
  const when = typeof snap.time === "number" ? new Date(snap.time) : new Date();
  const live = buildLiveGraph(tasks, locks);
  const cycleCount = live.edges.filter((e) => e.cycle).length;
  const byCertainty = (c: string) => diagnoses.filter((d) => d.certainty === c).length;

  const body: string[] = [];
  body.push(
    `<header><h1>${esc(title)}</h1><div class="dim">snapshot at ${esc(when.toISOString())} · pid ${process.pid}</div>`,
    `<div class="counts"><span><b>${diagnoses.length}</b> findings (${byCertainty("proven")} proven, ${byCertainty("observed")} observed, ${byCertainty("potential")} potential)</span><span><b>${tasks.length}</b> live tasks</span><span><b>${locks.length}</b> primitives</span><span><b>${resources.length}</b> open resources</span></div>`,
    `<nav><a href="#findings">Findings</a><a href="#graph">Wait-for graph</a><a href="#tasks">Tasks</a><a href="#timeline">Timeline</a><a href="#locks">Primitives</a><a href="#resources">Resources</a></nav></header>`,
  );
  body.push(`<section id="findings"><h2>Findings</h2>`);
  body.push(diagnoses.length === 0 ? `<p class="empty">No findings.</p>` : diagnoses.map((d, i) => diagnosisHtml(d, i, withSource)).join("\n"));
  body.push(`</section>`);
  body.push(
    `<section id="graph"><h2>Wait-for graph</h2><p class="dim">Circles are tasks, boxes are primitives. A dashed arrow: the task waits on the primitive; a solid arrow: the primitive is held by the task (dotted: a bare acquire, which other code of the task may still release). ${cycleCount > 0 ? `<b class="cyclenote" style="color:var(--red)">A cycle (in red): every task on it waits for another on it — a deadlock.</b>` : "No cycle."}</p>`,
    renderGraphSvg(live, "wait-for-graph"),
    `</section>`,
  );
  body.push(`<section id="tasks"><h2>Task tree</h2>${taskTreeHtml(tasks, timeline)}</section>`);
  body.push(`<section id="timeline"><h2>Timeline</h2>${timelineHtml(timeline, when.getTime())}</section>`);
  body.push(`<section id="locks"><h2>Primitives</h2>${locksHtml(locks)}</section>`);
  body.push(`<section id="resources"><h2>Open resources</h2>${resourcesHtml(resources)}</section>`);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body.join("\n")}
<script type="application/json" id="asyncdoctor-data">${scriptJson({ diagnoses, snapshot: snap, timeline })}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
