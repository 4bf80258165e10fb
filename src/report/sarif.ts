/**
 * Diagnoses as SARIF 2.1.0, the format GitHub code scanning (and most CI dashboards) read:
 * one run, the rule table in `tool.driver.rules`, one result per finding with its level,
 * location and region, and a stable `partialFingerprints` so an alert survives edits above it.
 */
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import { relative, sep } from "node:path";
import type { Diagnosis } from "../core/diagnosis.js";
import { sourceLine } from "../core/site.js";
import { InvalidArgTypeError } from "../core/validate.js";
import { packageInfo } from "../core/package-info.js";

/** One rule, as the SARIF rule table describes it. */
export interface SarifRule {
  readonly id: string;
  readonly description: string;
  readonly defaultSeverity: "error" | "warning";
  /** Where its documentation lives; default `<docsBase><id>.md`. */
  readonly helpUri?: string;
}

/** Options for {@link renderSarif}. */
export interface SarifOptions {
  /** The rules that ran (every one appears in the table, with or without results). */
  readonly rules: readonly SarifRule[];
  /** Paths in results are relative to this directory (`%SRCROOT%`); default the working directory. */
  readonly baseDir?: string;
  /** The tool version (default: the version of the running asyncdoctor package). */
  readonly version?: string;
  /**
   * The URL prefix of the rule pages; `<id>.md` is appended. By default there is no `helpUri`:
   * each rule's `help` names its page in the package, `node_modules/asyncdoctor/docs/rules/<id>.md`.
   */
  readonly docsBase?: string;
}

/**
 * The rule pages' address once the package is on npm (unpkg serves a published package's files).
 * Not used for SARIF's `helpUri` by default, since a link must resolve when it is followed.
 */
export const DEFAULT_DOCS_BASE = "https://unpkg.com/asyncdoctor/docs/rules/";

/** Where a rule's page is in the installed package (package.json `files` ships `docs/`). */
export const PACKAGE_DOCS_DIR = "node_modules/asyncdoctor/docs/rules/";

function level(d: Diagnosis): "error" | "warning" | "note" {
  const s = d.data?.severity;
  return s === "warning" ? "warning" : s === "note" ? "note" : "error";
}

function uriOf(file: string, baseDir: string): { uri: string; uriBaseId?: string } {
  const rel = relative(baseDir, file);
  if (rel && !rel.startsWith("..") && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel)) {
    return { uri: rel.split(sep).map(encodeURIComponent).join("/"), uriBaseId: "%SRCROOT%" };
  }
  return { uri: pathToFileURL(file).href };
}

function fingerprint(d: Diagnosis, seen: Map<string, number>): string {
  // the rule, the function and the text of the line: stable when lines above move
  const text = d.site ? (sourceLine(d.site) ?? "").replace(/\s+/g, "") : "";
  const key = `${d.rule}\0${d.site?.functionName ?? ""}\0${text}`;
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 32);
  const n = (seen.get(hash) ?? 0) + 1;
  seen.set(hash, n);
  return `${hash}:${n}`;
}

/**
 * Renders the checker's Diagnoses as a SARIF 2.1.0 log (pretty-printed JSON).
 *
 * @example
 * ```ts
 * writeFileSync("asyncdoctor.sarif", renderSarif(result.diagnoses, { rules: rules.map((r) => r.meta) }));
 * ```
 */
export function renderSarif(diagnoses: readonly Diagnosis[], options: SarifOptions): string {
  const given: unknown = diagnoses;
  if (!Array.isArray(given)) throw new InvalidArgTypeError("diagnoses", "an array of Diagnosis", diagnoses);
  const notObject = options === null || typeof options !== "object";
  const givenRules: unknown = notObject ? undefined : options.rules;
  if (!Array.isArray(givenRules)) throw new InvalidArgTypeError("options.rules", "an array of rule descriptions", notObject ? options : givenRules);
  const baseDir = options.baseDir ?? process.cwd();
  const docsBase = options.docsBase;
  const table = [...options.rules];
  // findings of rules not in the table (suppression checks) still need an entry
  for (const d of diagnoses) {
    if (!table.some((r) => r.id === d.rule)) table.push({ id: d.rule, description: d.summary, defaultSeverity: level(d) === "warning" ? "warning" : "error" });
  }
  const index = new Map(table.map((r, i) => [r.id, i]));
  const seen = new Map<string, number>();
  const results = diagnoses.map((d) => {
    const region = d.site
      ? {
          startLine: d.site.line,
          startColumn: d.site.column,
          ...(typeof d.data?.endLine === "number" && typeof d.data?.endColumn === "number" ? { endLine: d.data.endLine, endColumn: d.data.endColumn } : {}),
        }
      : undefined;
    const related = d.subjects
      .filter((s) => s.site)
      .map((s, i) => ({
        id: i + 1,
        message: { text: `${s.role ? `${s.role}: ` : ""}${s.name}` },
        physicalLocation: { artifactLocation: uriOf(s.site!.file, baseDir), region: { startLine: s.site!.line, startColumn: s.site!.column } },
      }));
    return {
      ruleId: d.rule,
      ruleIndex: index.get(d.rule)!,
      level: level(d),
      message: { text: `${d.summary}. Fix: ${d.fix}` },
      ...(d.site && region ? { locations: [{ physicalLocation: { artifactLocation: uriOf(d.site.file, baseDir), region } }] } : {}),
      ...(related.length > 0 ? { relatedLocations: related } : {}),
      partialFingerprints: { primaryLocationLineHash: fingerprint(d, seen) },
      properties: { certainty: d.certainty },
    };
  });
  const log = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "asyncdoctor",
            version: options.version ?? packageInfo().version,
            informationUri: "https://www.npmjs.com/package/asyncdoctor",
            rules: table.map((r) => {
              // a helpUri only when there is a real URL for it; else the page's place in the package
              const helpUri = r.helpUri ?? (docsBase !== undefined ? `${docsBase}${r.id}.md` : undefined);
              return {
                id: r.id,
                name: r.id.replace(/(^|-)([a-z])/g, (_m: string, _d: string, c: string) => c.toUpperCase()),
                shortDescription: { text: r.description },
                fullDescription: { text: r.description },
                ...(helpUri !== undefined ? { helpUri } : {}),
                help: { text: `${r.description}. See ${helpUri ?? `${PACKAGE_DOCS_DIR}${r.id}.md`}` },
                defaultConfiguration: { level: r.defaultSeverity },
                properties: { tags: ["async", "reliability"] },
              };
            }),
          },
        },
        originalUriBaseIds: { "%SRCROOT%": { uri: pathToFileURL(baseDir.endsWith(sep) ? baseDir : baseDir + sep).href } },
        results,
      },
    ],
  };
  return JSON.stringify(log, null, 2) + "\n";
}
