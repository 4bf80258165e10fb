/**
 * The timeline drawn as inline SVG (one lane per task, bars for waits and holds), with the
 * events listed in a table under it.
 */
import { formatSite } from "../../core/site.js";
import type { TimelineEvent } from "../../diagnose/timeline.js";
import { esc, fmtMs, trunc } from "./markup.js";
import { buildTimeline } from "./timeline.js";

const MAX_LANES = 200;

/** The timeline section's markup; a note saying how to get one when nothing was recorded. */
export function timelineHtml(events: readonly TimelineEvent[], endTime: number): string {
  const model = buildTimeline(events, endTime);
  if (!model) {
    return `<p class="empty">No timeline recorded (start a <code>TimelineRecorder</code> to see acquires and waits).</p>`;
  }
  const { t0, t1 } = model;
  const laneH = 26;
  const left = 170;
  const width = 900;
  const plot = width - left - 20;
  const rows = model.lanes.slice(0, MAX_LANES);
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
  const more = rows.length < model.lanes.length ? `<p class="note">Showing ${MAX_LANES} of ${model.lanes.length} tasks.</p>` : "";
  return `${more}<div class="legend"><span class="sw wait"></span>waiting <span class="sw hold"></span>holding <span class="sw life"></span>task alive</div>${parts.join("")}<details><summary>${events.length} events${events.length > 300 ? " (last 300 listed)" : ""}</summary><table class="events"><thead><tr><th>time</th><th>event</th><th>task</th><th>on</th><th>site</th></tr></thead><tbody>${list}</tbody></table></details>`;
}
