/**
 * The HTML report: one self-contained page (inline CSS, SVG and a little JS; nothing fetched)
 * with the wait-for graph and its cycles highlighted, the task tree, a timeline of waits and
 * holds, the primitives, the open resources and every Diagnosis with its sites. The graph and the
 * timeline are each a model (graph.ts, timeline.ts) drawn by its own markup (graph-svg.ts,
 * timeline-svg.ts).
 *
 * Every name on the page comes from user code, so every piece of text goes through `esc()`.
 */
import type { Diagnosis } from "../../core/diagnosis.js";
import type { Snapshot } from "../../core/registry.js";
import { InvalidArgTypeError, validateObject, validateOptionalString } from "../../core/validate.js";
import type { TimelineEvent } from "../../diagnose/timeline.js";
import { buildLiveGraph } from "./graph.js";
import { renderGraphSvg } from "./graph-svg.js";
import { esc, scriptJson } from "./markup.js";
import { diagnosisHtml, locksHtml, resourcesHtml, taskTreeHtml } from "./sections.js";
import { timelineHtml } from "./timeline-svg.js";

export { escapeHtml } from "./markup.js";

/** What {@link renderHtml} draws. */
export interface HtmlReportInput {
  /** The findings, e.g. what the exit report or `dump()` collected. */
  readonly diagnoses: readonly Diagnosis[];
  /** The live state (`snapshot()`). */
  readonly snapshot: Snapshot;
  /** Events from a {@link TimelineRecorder}, oldest first. */
  readonly timeline?: readonly TimelineEvent[] | undefined;
  /** The page title (default "asyncdoctor report"). */
  readonly title?: string | undefined;
  /** Show the source line under each site (default true). */
  readonly sourceLines?: boolean | undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object";
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
    if (!isObject(d) || typeof d.rule !== "string" || typeof d.summary !== "string" || !Array.isArray(d.subjects)) {
      throw new InvalidArgTypeError(`input.diagnoses[${i}]`, "a Diagnosis", d);
    }
  }
  validateObject(input.snapshot, "input.snapshot");
  for (const key of ["tasks", "locks", "resources"] as const) {
    if (!Array.isArray(input.snapshot[key])) throw new InvalidArgTypeError(`input.snapshot.${key}`, "an array", input.snapshot[key]);
  }
  if (input.timeline !== undefined) {
    if (!Array.isArray(input.timeline)) throw new InvalidArgTypeError("input.timeline", "an array of TimelineEvent", input.timeline);
    for (const [i, e] of input.timeline.entries()) {
      if (!isObject(e) || typeof e.kind !== "string" || typeof e.time !== "number") throw new InvalidArgTypeError(`input.timeline[${i}]`, "a TimelineEvent", e);
    }
  }
  validateOptionalString(input.title, "input.title");
  if (input.sourceLines !== undefined && typeof input.sourceLines !== "boolean") {
    throw new InvalidArgTypeError("input.sourceLines", "of type boolean", input.sourceLines);
  }
  const withSource = input.sourceLines ?? true;
  const snap = input.snapshot;
  const { tasks, locks, resources } = snap;
  const timeline = input.timeline ?? [];
  const diagnoses: readonly Diagnosis[] = input.diagnoses;
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
