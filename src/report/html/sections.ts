/**
 * The report's sections other than the graph and the timeline: each finding, the task tree, the
 * primitives and the open resources.
 */
import type { Diagnosis } from "../../core/diagnosis.js";
import type { LockPartySnapshot, LockSnapshot, ResourceSnapshot, TaskSnapshot } from "../../core/registry.js";
import { formatSite, sourceLine } from "../../core/site.js";
import type { Site } from "../../core/site.js";
import type { TimelineEvent } from "../../diagnose/timeline.js";
import { ruleTitle } from "../text.js";
import { buildDiagnosisGraph, deadlockRules } from "./graph.js";
import { renderGraphSvg } from "./graph-svg.js";
import { esc, fmtMs } from "./markup.js";

function siteHtml(site: Site | undefined, withSource: boolean): string {
  if (!site) return "";
  const src = withSource ? sourceLine(site) : undefined;
  return `<span class="site">${esc(formatSite(site))}</span>${src ? `<pre class="src"><span class="ln">${site.line}</span> ${esc(src)}</pre>` : ""}`;
}

/** One finding: its certainty, sentence, sites with source lines, steps, subjects, its own cycle when it is a deadlock, and the fix. */
export function diagnosisHtml(d: Diagnosis, i: number, withSource: boolean): string {
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

/** The task tree: live tasks, and the settled ones the timeline saw, under their parents. */
export function taskTreeHtml(tasks: readonly TaskSnapshot[], timeline: readonly TimelineEvent[]): string {
  const all = new Map<number, TreeTask>();
  for (const t of tasks) {
    const bits = [`age ${fmtMs(t.ageMs)}`];
    if (t.waitingOn) bits.push(`waiting on ${t.waitingOn.kind} "${t.waitingOn.name}" for ${fmtMs(t.waitingOn.forMs)}`);
    if (t.holds.length > 0) bits.push(`holds ${t.holds.map((h) => `${h.kind} "${h.name}"`).join(", ")}`);
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

function partyCell(ps: readonly LockPartySnapshot[]): string {
  if (ps.length === 0) return `<span class="dim">none</span>`;
  return ps
    .map(
      (p) =>
        `<div><b>${esc(p.taskName ?? (p.taskId !== undefined ? `task#${p.taskId}` : "(no task)"))}</b> <span class="dim">${esc(fmtMs(p.forMs))}${p.permits !== 1 ? ` · ${p.permits} permits` : ""}${p.mode ? ` · ${esc(p.mode)}` : ""}${p.site ? ` · ${esc(formatSite(p.site))}` : ""}</span></div>`,
    )
    .join("");
}

/** The primitives table, with holders and waiters. */
export function locksHtml(locks: readonly LockSnapshot[]): string {
  if (locks.length === 0) return `<p class="empty">No live primitives.</p>`;
  const rows = locks
    .map((l) => {
      return `<tr><td><b>${esc(l.name)}</b></td><td>${esc(l.kind)}</td><td>${l.holders.length}/${esc(String(l.capacity))}</td><td>${partyCell(l.holders)}</td><td>${partyCell(l.waiters)}</td><td>${l.site ? esc(formatSite(l.site)) : ""}</td></tr>`;
    })
    .join("");
  return `<table><thead><tr><th>name</th><th>kind</th><th>held</th><th>holders</th><th>waiters</th><th>created at</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The open resources table. */
export function resourcesHtml(resources: readonly ResourceSnapshot[]): string {
  if (resources.length === 0) return `<p class="empty">No open tracked resources.</p>`;
  const rows = resources
    .map(
      (r) =>
        `<tr><td><b>${esc(r.name)}</b></td><td>${esc(fmtMs(r.ageMs))}</td><td>${esc(r.taskName ?? "")}</td><td>${r.site ? esc(formatSite(r.site)) : ""}</td></tr>`,
    )
    .join("");
  return `<table><thead><tr><th>name</th><th>open for</th><th>opened by task</th><th>opened at</th></tr></thead><tbody>${rows}</tbody></table>`;
}
