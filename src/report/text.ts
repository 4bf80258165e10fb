/**
 * A Diagnosis as text for a person: certainty and rule first, names not addresses, each step
 * with its file:line and source line, and the fix.
 */
import type { Diagnosis, Subject } from "../core/diagnosis.js";
import { formatSite, sourceLine, sourceLines } from "../core/site.js";
import type { Site } from "../core/site.js";

/** Options for {@link renderText}. */
export interface TextOptions {
  /** ANSI colours; by default when stderr is a TTY and NO_COLOR is unset. */
  color?: boolean;
  /** Print the source line under each site (default true). */
  sourceLines?: boolean;
  /**
   * Under the finding's own site, print a code frame (the lines around it, a caret under the
   * column) instead of the single line: the static checker's output.
   */
  codeFrame?: boolean;
}

const plainWords: Record<string, string> = {
  "deadlock-reentrant": "deadlock: re-entrant acquire",
  "deadlock-cycle": "deadlock: wait-for cycle",
  "pool-exhaustion": "deadlock: pool exhausted by its own waiters",
  "lock-order-inversion": "deadlock: lock-order inversion",
  "long-wait": "long wait",
  "lost-update": "lost update",
  "task-failed": "background task failed",
  "unhandled-rejection": "unhandled rejection",
  "dropped-promise": "dropped promise",
  "leaked-task": "leaked task",
  "leaked-resource": "leaked resource",
  "leaked-lock": "lock still held",
  "leaked-timer": "leaked timer",
  "never-settled": "await that can never settle",
  "loop-blocked": "event loop blocked",
  timeout: "timeout",
  "floating-promise": "floating promise",
  "unawaited-aggregate": "Promise.all/allSettled/race/any not awaited",
  "async-callback-misuse": "async callback whose promise is ignored",
  "missing-timeout": "network await without a timeout",
  "unclosed-resource": "resource not closed on every path",
  "suppression-without-reason": "suppression without a reason",
  "invalid-suppression": "invalid suppression comment",
};

/** The plain-words name of a rule ("deadlock: wait-for cycle"), or the id itself. */
export function ruleTitle(rule: string): string {
  return plainWords[rule] ?? rule.replace(/-/g, " ");
}

function colorEnabled(): boolean {
  return !process.env.NO_COLOR && (process.env.FORCE_COLOR !== undefined || process.stderr.isTTY === true);
}

function paint(on: boolean) {
  const wrap = (open: number, close: number) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), yellow: wrap(33, 39), cyan: wrap(36, 39), green: wrap(32, 39) };
}

function siteLines(site: Site | undefined, indent: string, withSource: boolean, dim: (s: string) => string): string[] {
  if (!site || !withSource) return [];
  const text = sourceLine(site);
  return text ? [`${indent}${dim(`${String(site.line).padStart(5)} | ${text}`)}`] : [];
}

/** The lines around a site, numbered, with a caret under its column. */
export function codeFrame(site: Site, opts: { before?: number; after?: number; dim?: (s: string) => string; mark?: (s: string) => string } = {}): string[] {
  const lines = sourceLines(site.file);
  const dim = opts.dim ?? ((s: string) => s);
  const mark = opts.mark ?? ((s: string) => s);
  if (!lines || site.line < 1 || site.line > lines.length) return [];
  const first = Math.max(1, site.line - (opts.before ?? 2));
  const last = Math.min(lines.length, site.line + (opts.after ?? 1));
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const text = (lines[n - 1] ?? "").replace(/\t/g, "  ");
    const gutter = `${n === site.line ? ">" : " "} ${String(n).padStart(width)} | `;
    out.push(n === site.line ? `${mark(gutter)}${text}` : dim(`${gutter}${text}`));
    if (n === site.line) {
      const lead = (lines[n - 1] ?? "")
        .slice(0, Math.max(0, site.column - 1))
        .replace(/\t/g, "  ")
        .replace(/[^\s]/g, " ");
      out.push(`${" ".repeat(width + 2)} | ${lead}${mark("^")}`);
    }
  }
  return out;
}

function subjectLine(s: Subject): string {
  const role = s.role ? `${s.role}: ` : "";
  const where = s.site ? ` at ${formatSite(s.site)}` : "";
  const detail = s.detail ? ` (${s.detail})` : "";
  return `${role}${s.kind} "${s.name}"${where}${detail}`;
}

/**
 * Renders one Diagnosis as text.
 *
 * @example
 * ```ts
 * configure({ onDiagnosis: (d) => process.stderr.write(renderText(d)) });
 * ```
 */
export function renderText(d: Diagnosis, options: TextOptions = {}): string {
  const c = paint(options.color ?? colorEnabled());
  const withSource = options.sourceLines ?? true;
  const level = d.certainty === "proven" ? c.red : d.certainty === "observed" ? c.yellow : c.cyan;
  const out: string[] = [];
  const retract = d.retracts ? " (retracts an earlier report)" : "";
  const severity = d.data?.severity === "error" || d.data?.severity === "warning" ? ` ${c.dim(`(${d.data.severity})`)}` : "";
  out.push(`${c.bold(level(d.certainty.toUpperCase()))} ${c.bold(ruleTitle(d.rule))} ${c.dim(`[${d.rule}]`)}${severity}${retract}`);
  out.push(`  ${d.summary}`);
  if (d.site) {
    out.push(`  at ${formatSite(d.site)}${d.site.functionName && options.codeFrame ? ` ${c.dim(`(in ${d.site.functionName})`)}` : ""}`);
    const frame = options.codeFrame && withSource ? codeFrame(d.site, { dim: c.dim, mark: (s) => c.bold(level(s)) }) : [];
    if (frame.length > 0) {
      out.push("");
      out.push(...frame.map((l) => `    ${l}`));
    } else out.push(...siteLines(d.site, "  ", withSource, c.dim));
  }
  if (d.steps && d.steps.length > 0) {
    out.push("");
    d.steps.forEach((step, i) => {
      out.push(`  ${i + 1}. ${step.text}${step.site ? ` ${c.dim("at")} ${formatSite(step.site)}` : ""}`);
      out.push(...siteLines(step.site, "     ", withSource, c.dim));
    });
  }
  const shown = d.subjects.filter((s) => !d.steps?.length || s.kind !== "code");
  if (shown.length > 0) {
    out.push("");
    for (const s of shown) out.push(`  - ${subjectLine(s)}`);
  }
  if (d.fix) {
    out.push("");
    out.push(`  ${c.green("fix:")} ${d.fix}`);
  }
  return out.join("\n") + "\n";
}
