/**
 * The wait-for graph drawn as inline SVG: tasks are circles, primitives boxes; a dashed arrow is
 * a wait, a solid one a hold, and a cycle is red.
 */
import { formatSite } from "../../core/site.js";
import { orderNodes } from "./graph.js";
import type { Graph } from "./graph.js";
import { esc, trunc } from "./markup.js";

const MAX_NODES = 150;

/** Draws a graph as inline SVG, nodes on a circle with each cycle's members side by side. */
export function renderGraphSvg(g: Graph, id: string): string {
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
    parts.push(`<path class="${cls}" d="${d}" marker-end="${marker}" data-from="${esc(e.from)}" data-to="${esc(e.to)}"><title>${esc(e.label)}</title></path>`);
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
