/**
 * How sync/ names a task in its reports. Holder scopes of code outside any task share the
 * lock's "<name> holder" (making a unique string per acquire would cost on the hot path), so
 * reports add the id to tell them apart.
 */
import type { Activation } from "../core/await-graph.js";
import { formatSite, relativeFile } from "../core/site.js";
import type { Site } from "../core/site.js";
import type { TaskRecord } from "../core/task.js";

/** A holder or a waiter: where it acquired, and (debug mode) the async call it was made in. */
export interface Party {
  readonly site: Site | undefined;
  readonly activation?: Activation | undefined;
}

/**
 * A task's name for a report. Code outside every task (a bare `acquire()` in a plain async
 * function, or at the top of a module) is named by the call it ran in, as the await graph
 * knows it, else by where it acquired: "transfer() at bank.ts:12", "the main module at app.ts:4".
 */
export function taskLabel(t: TaskRecord | undefined, party?: Party): string {
  if (t === undefined) return party === undefined ? "<unknown task>" : partyLabel(party);
  return t.kind === "scope" && t.parent === undefined ? `${t.name} #${t.id}` : t.name;
}

function partyLabel(p: Party): string {
  const link = p.activation?.link();
  const site = p.site;
  const at = site ? ` at ${relativeFile(site.file)}:${site.line}` : link && link.file ? ` at ${relativeFile(link.file)}:${link.line}` : "";
  if (link !== undefined && link.name !== "<unknown>") {
    return link.name === "the module" ? `the main module${at}` : `${link.name === "<anonymous>" ? "an async callback" : `${link.name}()`}${at}`;
  }
  if (site === undefined) return "<unknown task>";
  return site.functionName ? `${site.functionName}()${at}` : `the main module${at}`;
}

/** "; now waiting on mutex "b" at src/x.ts:3:9" for a holder that is itself blocked, else "". */
export function holderWaiting(t: TaskRecord | undefined): string {
  const w = t?.waitingOn;
  if (w === undefined) return "";
  return `; now waiting on ${w.target.kind} "${w.target.name}"${w.site ? ` at ${formatSite(w.site)}` : ""}`;
}
