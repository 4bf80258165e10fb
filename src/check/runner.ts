/**
 * The runner: loads the program, runs each enabled rule (file-scoped rules per file,
 * program-scoped ones once), applies configuration and suppressions, and turns findings into
 * Diagnoses. A rule that throws is reported as a problem; the other rules still run.
 */
import ts from "typescript";
import { createDiagnosis } from "../core/diagnosis.js";
import type { Diagnosis } from "../core/diagnosis.js";
import type { Site } from "../core/site.js";
import { InvalidArgTypeError } from "../core/validate.js";
import { loadConfig, parseConfig } from "./config.js";
import type { CheckConfig } from "./config.js";
import { loadProgram } from "./program.js";
import { registerProgram } from "./analysis/program-of.js";
import type { LoadedProgram, LoadProblem } from "./program.js";
import { optionErrors } from "./rule.js";
import type { Finding, Rule, Severity } from "./rule.js";
import { rules as allRules } from "./rules/index.js";
import { eslintDisabled, findSuppressions, isSuppressed } from "./suppression.js";
import type { Suppression } from "./suppression.js";

/** Ids of the findings the runner itself makes about suppression comments. */
export const SUPPRESSION_RULES = {
  noReason: "suppression-without-reason",
  unknownRule: "invalid-suppression",
} as const;

/** The result of a check. */
export interface CheckResult {
  /** Findings, sorted by file, line and column; `data.severity` is each one's severity. */
  readonly diagnoses: readonly Diagnosis[];
  /** Input the checker could not use (missing paths, broken tsconfig, files that do not parse, rule crashes). */
  readonly problems: readonly LoadProblem[];
  /** How many files were checked. */
  readonly filesChecked: number;
  /** True when a finding is at or above `config.failOn`. */
  readonly failed: boolean;
  readonly config: CheckConfig;
}

/** Options of {@link runChecks}. */
export interface RunOptions {
  /** The rules to run (default: every rule). */
  readonly rules?: readonly Rule[];
  /** Rule severities and options (default: each rule's defaults). */
  readonly config?: CheckConfig;
  /** Only these rule ids (the CLI's `--rule`). */
  readonly only?: readonly string[];
  /** Called after each file (the CLI's progress line). */
  readonly onProgress?: (done: number, total: number, file: string) => void;
}

function requireObject(value: unknown, name: string): void {
  if (value === null || typeof value !== "object") throw new InvalidArgTypeError(name, "an object", value);
}

/** The severity of a Diagnosis made by the checker. */
export function severityOf(d: Diagnosis): Exclude<Severity, "off"> {
  return d.data?.severity === "warning" ? "warning" : "error";
}

function enclosingName(node: ts.Node): string | undefined {
  for (let cur: ts.Node | undefined = node; cur; cur = cur.parent) {
    if ((ts.isFunctionDeclaration(cur) || ts.isMethodDeclaration(cur) || ts.isFunctionExpression(cur)) && cur.name) return cur.name.getText();
    if ((ts.isArrowFunction(cur) || ts.isFunctionExpression(cur)) && ts.isVariableDeclaration(cur.parent) && ts.isIdentifier(cur.parent.name))
      return cur.parent.name.text;
  }
  return undefined;
}

/** The site of a node: file, 1-based line and column of its start, and its enclosing function. */
export function siteOf(node: ts.Node): Site {
  const sf = node.getSourceFile();
  const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  return { file: sf.fileName, line: line + 1, column: character + 1, functionName: enclosingName(node) };
}

function toDiagnosis(rule: Rule, f: Finding, severity: Exclude<Severity, "off">): Diagnosis {
  const sf = f.node.getSourceFile();
  const end = sf.getLineAndCharacterOfPosition(f.node.getEnd());
  return createDiagnosis({
    rule: rule.meta.id,
    certainty: f.certainty ?? rule.meta.certainty,
    summary: f.summary,
    subjects: f.subjects ?? [],
    steps: f.steps,
    fix: f.fix,
    site: siteOf(f.node),
    data: { ...f.data, severity, endLine: end.line + 1, endColumn: end.character + 1 },
  });
}

function suppressionDiagnosis(sf: ts.SourceFile, s: Suppression, rule: string, summary: string, fix: string): Diagnosis {
  return createDiagnosis({
    rule,
    certainty: "proven",
    summary,
    subjects: [],
    fix,
    site: { file: sf.fileName, line: s.line, column: s.column },
    data: { severity: "error" },
  });
}

/**
 * Runs the rules over a loaded program.
 *
 * @example
 * ```ts
 * const result = runChecks(loadProgram({ paths: ["src"] }));
 * for (const d of result.diagnoses) process.stdout.write(renderText(d));
 * ```
 */
export function runChecks(loaded: LoadedProgram, options: RunOptions = {}): CheckResult {
  if (loaded === null || typeof loaded !== "object" || !("program" in loaded))
    throw new InvalidArgTypeError("loaded", "a LoadedProgram (from loadProgram)", loaded);
  requireObject(options, "options");
  const known = options.rules ?? allRules;
  const config = options.config ?? parseConfig({}, known, "defaults");
  if (options.only !== undefined) {
    if (!Array.isArray(options.only)) throw new InvalidArgTypeError("options.only", "an array of rule ids", options.only);
    for (const id of options.only) {
      if (!known.some((r) => r.meta.id === id))
        throw new RangeError(`The value of "options.only" names an unknown rule "${id}"; known rules: ${known.map((r) => r.meta.id).join(", ")}`);
    }
  }
  const active = known.filter((r) => {
    if (options.only && !options.only.includes(r.meta.id)) return false;
    const sev = config.rules[r.meta.id]?.severity ?? r.meta.defaultSeverity;
    // --rule turns a rule on even when the configuration has it off
    return options.only ? true : sev !== "off";
  });
  const severityFor = (r: Rule): Exclude<Severity, "off"> => {
    const s = config.rules[r.meta.id]?.severity ?? r.meta.defaultSeverity;
    return s === "off" ? r.meta.defaultSeverity : s;
  };
  const { program, checker, sourceFiles } = loaded;
  // the shared analyses list the program's files through the checker they are given
  registerProgram(program, checker);
  const problems: LoadProblem[] = [...loaded.problems];
  const raw: { rule: Rule; finding: Finding }[] = [];
  const crashed = (rule: Rule, file: string, err: unknown): void => {
    problems.push({
      kind: "rule",
      file,
      message: `rule ${rule.meta.id} failed on this file and was skipped for it: ${err instanceof Error ? err.message : String(err)}`,
    });
  };
  // the options schema each rule declares (the one ESLint checks): a typo is a configuration problem
  for (const rule of active) {
    const configured = config.rules[rule.meta.id]?.options;
    if (!rule.meta.optionsSchema || configured === undefined || Object.keys(configured).length === 0) continue;
    for (const message of optionErrors(rule.meta.optionsSchema, configured, `rule "${rule.meta.id}": options`)) {
      problems.push({ kind: "config", file: config.source ?? "<configuration>", message });
    }
  }
  const checked = new Set(sourceFiles.map((f) => f.fileName));
  for (const rule of active) {
    if (rule.meta.scope !== "program" || !rule.checkProgram) continue;
    try {
      rule.checkProgram({
        program,
        checker,
        sourceFiles,
        options: config.rules[rule.meta.id]?.options ?? {},
        report: (finding) => raw.push({ rule, finding }),
      });
    } catch (err) {
      crashed(rule, "<program>", err);
    }
  }
  sourceFiles.forEach((sourceFile, i) => {
    for (const rule of active) {
      if (rule.meta.scope !== "file" || !rule.checkFile) continue;
      try {
        rule.checkFile({ program, checker, sourceFile, options: config.rules[rule.meta.id]?.options ?? {}, report: (finding) => raw.push({ rule, finding }) });
      } catch (err) {
        crashed(rule, sourceFile.fileName, err);
      }
    }
    options.onProgress?.(i + 1, sourceFiles.length, sourceFile.fileName);
  });

  const suppressions = new Map<string, Suppression[]>();
  const disabledByEslint = new Map<string, (id: string, line: number) => boolean>();
  const diagnoses: Diagnosis[] = [];
  const knownIds = new Set([...allRules, ...known].map((r) => r.meta.id));
  for (const sf of sourceFiles) {
    const list = findSuppressions(sf);
    suppressions.set(sf.fileName, list);
    disabledByEslint.set(sf.fileName, eslintDisabled(sf));
    for (const s of list) {
      if (s.rules.length === 0) {
        diagnoses.push(
          suppressionDiagnosis(
            sf,
            s,
            SUPPRESSION_RULES.unknownRule,
            "this asyncdoctor-ignore comment names no rule, so it silences nothing",
            "name the rule it silences: `// asyncdoctor-ignore <rule-id> -- why`",
          ),
        );
        continue;
      }
      const unknown = s.rules.filter((r) => !knownIds.has(r));
      if (unknown.length > 0) {
        diagnoses.push(
          suppressionDiagnosis(
            sf,
            s,
            SUPPRESSION_RULES.unknownRule,
            `this asyncdoctor-ignore comment names no known rule: ${unknown.join(", ")}`,
            `use one of: ${[...knownIds].join(", ")}`,
          ),
        );
      }
      if (s.reason.length === 0) {
        diagnoses.push(
          suppressionDiagnosis(
            sf,
            s,
            SUPPRESSION_RULES.noReason,
            `this asyncdoctor-ignore comment silences ${s.rules.join(", ")} without saying why`,
            `add the reason after \`--\`: \`// asyncdoctor-ignore ${s.rules.join(", ")} -- <why this is safe>\``,
          ),
        );
      }
    }
  }
  for (const { rule, finding } of raw) {
    const sf = finding.node.getSourceFile();
    if (!checked.has(sf.fileName)) continue;
    const line = sf.getLineAndCharacterOfPosition(finding.node.getStart(sf)).line + 1;
    if (isSuppressed(suppressions.get(sf.fileName) ?? [], rule.meta.id, line)) continue;
    // the same comment silences the rule in ESLint and here
    if (disabledByEslint.get(sf.fileName)?.(rule.meta.id, line)) continue;
    diagnoses.push(toDiagnosis(rule, finding, severityFor(rule)));
  }
  diagnoses.sort((a, b) =>
    a.site!.file < b.site!.file ? -1 : a.site!.file > b.site!.file ? 1 : a.site!.line - b.site!.line || a.site!.column - b.site!.column,
  );
  const failed = diagnoses.some((d) => config.failOn === "warning" || severityOf(d) === "error");
  return { diagnoses, problems, filesChecked: sourceFiles.length, failed, config };
}

/** Options of {@link check}. */
export interface CheckOptions extends RunOptions {
  readonly paths?: readonly string[];
  readonly project?: string;
  readonly cwd?: string;
  /** A configuration file (default: found from `cwd` upwards). */
  readonly configFile?: string;
}

/**
 * Loads the program and the configuration, and runs the rules: what `asyncdoctor check` does.
 * Throws only for a broken configuration ({@link ConfigError}); bad input is in `problems`.
 *
 * @example
 * ```ts
 * const { diagnoses, failed } = check({ paths: ["src"] });
 * ```
 */
export function check(options: CheckOptions = {}): CheckResult {
  requireObject(options, "options");
  if (options.paths !== undefined && (!Array.isArray(options.paths) || options.paths.some((p) => typeof p !== "string"))) {
    throw new InvalidArgTypeError("options.paths", "an array of strings", options.paths);
  }
  if (options.project !== undefined && typeof options.project !== "string") throw new InvalidArgTypeError("options.project", "of type string", options.project);
  if (options.cwd !== undefined && typeof options.cwd !== "string") throw new InvalidArgTypeError("options.cwd", "of type string", options.cwd);
  const cwd = options.cwd ?? process.cwd();
  const known = options.rules ?? allRules;
  const config = options.config ?? loadConfig(cwd, known, options.configFile);
  const loaded = loadProgram({ paths: options.paths, project: options.project, cwd });
  return runChecks(loaded, { ...options, rules: known, config });
}
