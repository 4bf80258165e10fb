/**
 * Names for the user's own pools and locks, taken where they were constructed: the variable or
 * property it was assigned to and the line (`pool (src/db.ts:4)`), so a report says which of
 * the program's objects it is about. Costs one stack capture per construction, not per use.
 */
import { captureStack, formatSite, relativeFile, sourceLine, sourceLines } from "../core/site.js";
import type { Site } from "../core/site.js";
import type { TaskRecord } from "../core/task.js";

/** Where a library object was made, in the user's code, and the name it gets. */
export interface ConstructionName {
  readonly name: string;
  readonly site: Site | undefined;
}

// `const pool = new pg.Pool(`, `this.db = knex(`, `db: new Pool(`, `export const lock = new Mutex(`
const ASSIGNED = /(?:\b(?:const|let|var)\s+|(?:this|self)\s*\.\s*|^|[{,]\s*)([A-Za-z_$][\w$]*)\s*(?::\s*[^=]+?)?\s*[:=]\s*(?:await\s+)?(?:new\b|[\w$.]+\s*\()/;

// the same, ending where the construction begins
const ASSIGNED_BEFORE = /([A-Za-z_$][\w$]*)\s*(?::\s*[^=;]+?)?\s*[:=]\s*(?:await\s+)?(?:new\s+)?$/;

/**
 * The name of a library object constructed just now, by the code above `above` on the stack.
 * Frames inside node_modules are skipped: a library that builds the object for the user (knex
 * building its pool) is not where the user made it.
 */
export function constructionName(above: Function, kind: string): ConstructionName {
  const stack = captureStack(above, 24);
  const site = stack.find((s) => !/[\\/]node_modules[\\/]/.test(s.file)) ?? stack[0];
  if (site === undefined) return { name: kind, site: undefined };
  const where = `${relativeFile(site.file)}:${site.line}`;
  // the assignment just before the construction's column (`const a = new M(), b = new M()`)
  const raw = sourceLines(site.file)?.[site.line - 1];
  const before = raw === undefined ? undefined : ASSIGNED_BEFORE.exec(raw.slice(0, Math.max(0, site.column - 1)));
  const line = sourceLine(site);
  const m = before ?? (line === undefined ? null : ASSIGNED.exec(line));
  const variable = m?.[1];
  return { name: variable && !/^(?:new|await|return|export)$/.test(variable) ? `${variable} (${where})` : `${kind} at ${where}`, site };
}

/** A task's name in an instrumentation's report. */
export function taskName(task: TaskRecord | undefined): string {
  if (task === undefined) return "code outside any task";
  return task.kind === "scope" && task.parent === undefined ? `${task.name} #${task.id}` : task.name;
}

/** `at src/x.ts:3:9`, or "" when the site is not known. */
export function atSite(site: Site | undefined): string {
  return site === undefined ? "" : ` at ${formatSite(site)}`;
}
