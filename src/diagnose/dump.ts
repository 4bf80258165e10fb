/**
 * `dump()`: the live state on demand (and on SIGUSR2 in debug mode): the task tree, locks with
 * their holders and waiters, the wait-for graph, the open resources.
 */
import { writeFileSync } from "node:fs";
import { snapshot } from "../core/registry.js";
import { InvalidArgTypeError, validateObject, validateOneOf } from "../core/validate.js";
import { renderStateText } from "../report/state-text.js";
import { renderHtml } from "../report/html/page.js";
import type { Diagnosis } from "../core/diagnosis.js";
import type { StateReport, WaitForEdge } from "../report/state-text.js";
import "./resources.js";
import { renderText } from "../report/text.js";
import { stuckAwaitsReport } from "./stuck-awaits.js";

/** Options of {@link dump}. */
export interface DumpOptions {
  /** "text" (default), "json", or "html" (one self-contained page with the wait-for graph). */
  format?: "text" | "json" | "html";
  /** For "html": findings to show with the state (e.g. what `onDiagnosis` collected). */
  diagnoses?: readonly Diagnosis[];
  /** Where to write: "stderr" (default), "none" (only return it), or a file path. */
  to?: string;
}

/** The live state as data. */
export function dumpState(): StateReport {
  const snap = snapshot();
  const { locks, resources } = snap;
  const taskNames = new Map(snap.tasks.map((t) => [t.id, t.name]));
  const name = (id: number | undefined, given: string | undefined) => given ?? (id !== undefined ? taskNames.get(id) : undefined) ?? "<unknown task>";
  const waitFor: WaitForEdge[] = [];
  for (const l of locks) {
    for (const w of l.waiters) {
      for (const h of l.holders) waitFor.push({ from: name(w.taskId, w.taskName), lock: `${l.kind} "${l.name}"`, to: name(h.taskId, h.taskName) });
    }
  }
  return { time: new Date(snap.time).toISOString(), pid: process.pid, tasks: snap.tasks, locks, waitFor, resources };
}

/**
 * Writes the live state — task tree, locks with holders and waiters, the wait-for graph, open
 * resources — to stderr (or a file) as text, JSON or a self-contained HTML page, and returns
 * what it wrote.
 *
 * @example
 * ```ts
 * import { dump } from "asyncdoctor";
 * process.on("SIGUSR1", () => dump({ to: "/tmp/state.json", format: "json" }));
 * ```
 */
export function dump(options: DumpOptions = {}): string {
  validateObject(options, "options");
  if (options.format !== undefined) validateOneOf(options.format, "options.format", ["text", "json", "html"]);
  if (options.diagnoses !== undefined && !Array.isArray(options.diagnoses)) {
    throw new InvalidArgTypeError("options.diagnoses", "an array of Diagnosis", options.diagnoses);
  }
  if (options.to !== undefined && (typeof options.to !== "string" || options.to === "")) {
    throw new InvalidArgTypeError("options.to", `"stderr", "none" or a file path`, options.to);
  }
  let text: string;
  // the async jstack: awaits pending past the threshold, with their chains (debug mode)
  const stuck: Diagnosis[] = stuckAwaitsReport("dump");
  if (options.format === "html") {
    text = renderHtml({
      diagnoses: [...((options.diagnoses ?? []) as readonly Diagnosis[]), ...stuck],
      snapshot: snapshot(),
      title: `asyncdoctor: state of process ${process.pid}`,
    });
  } else {
    const state = dumpState();
    if (options.format === "json") text = JSON.stringify({ ...state, stuckAwaits: stuck }, null, 2) + "\n";
    else {
      text = renderStateText(state);
      if (stuck.length > 0) {
        const noColor = { color: false };
        text += `stuck awaits (${stuck.length}):\n` + stuck.map((d) => renderText(d, noColor).replace(/^/gm, "  ")).join("\n") + "\n";
      }
    }
  }
  const to = options.to ?? "stderr";
  if (to === "stderr") process.stderr.write(text);
  else if (to !== "none") writeFileSync(to, text);
  return text;
}

let onSignal: (() => void) | undefined;

/** Debug mode: `kill -USR2 <pid>` dumps the state to stderr. Returns a function that removes it. */
export function dumpOnSignal(): () => void {
  const signal = "SIGUSR2";
  if (onSignal) process.off(signal, onSignal);
  const handler = () => {
    dump();
  };
  onSignal = handler;
  process.on(signal, handler);
  return () => {
    process.off(signal, handler);
    if (onSignal === handler) onSignal = undefined;
  };
}
