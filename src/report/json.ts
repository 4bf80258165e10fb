/**
 * Diagnoses as JSON: the records as they are, with sites made relative to the working
 * directory and a version so readers can evolve.
 */
import type { Diagnosis } from "../core/diagnosis.js";

/** The document {@link renderJson} writes. */
export interface JsonReport {
  readonly tool: "asyncdoctor";
  readonly version: 1;
  readonly diagnoses: readonly Diagnosis[];
}

/**
 * Renders Diagnoses as a JSON document (pretty-printed).
 *
 * @example
 * ```ts
 * writeFileSync("report.json", renderJson(found));
 * ```
 */
export function renderJson(diagnoses: readonly Diagnosis[]): string {
  const doc: JsonReport = { tool: "asyncdoctor", version: 1, diagnoses };
  return JSON.stringify(doc, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v), 2) + "\n";
}
