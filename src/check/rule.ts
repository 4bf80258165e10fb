/**
 * The contract every static rule implements. A rule is one file in `rules/`, exporting one
 * {@link Rule}; the CLI and the ESLint adapter both drive it through this interface, so the
 * rule logic exists once.
 */
import type ts from "typescript";
import type { Certainty, Step, Subject } from "../core/diagnosis.js";

/** How seriously a finding of a rule is taken; `off` disables the rule. */
export type Severity = "error" | "warning" | "off";

/** What a rule is, for docs, config and output. */
export interface RuleMeta {
  /** Stable id, also the file name: `floating-promise`. */
  readonly id: string;
  /** One line, for `--list-rules` and the SARIF rule table. */
  readonly description: string;
  /** The certainty of its findings unless a finding says otherwise. */
  readonly certainty: Certainty;
  /** The severity when the configuration does not set one. */
  readonly defaultSeverity: Exclude<Severity, "off">;
  /**
   * `file`: needs one source file (and the type checker) at a time, so it also runs in ESLint.
   * `program`: looks across files (call chains, lock orders), so it runs once per program.
   */
  readonly scope: "file" | "program";
  /**
   * The JSON Schema of the rule's options object (`rules.<id>.options`, or the ESLint rule's
   * first option). Every key is declared, so a typo like `wrapers` is rejected. Absent when the
   * rule takes no options.
   */
  readonly optionsSchema?: OptionsSchema;
}

/** A JSON Schema (draft-04 subset, as ESLint validates rule options with it). */
export interface JsonSchema {
  readonly type?: "object" | "array" | "string" | "boolean" | "number" | "integer";
  readonly description?: string;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly items?: JsonSchema;
  readonly enum?: readonly (string | number | boolean)[];
  readonly minimum?: number;
}

/** The schema of a rule's options: an object whose keys are all declared. */
export interface OptionsSchema extends JsonSchema {
  readonly type: "object";
  readonly properties: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties: false;
}

/** A text edit: replace `[start, end)` of the file with `text` (offsets in the source text). */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** A fix the user may choose to apply (an editor's quick fix; ESLint's suggestion). */
export interface Suggestion {
  /** What it does, as an imperative: "Add `await`". */
  readonly description: string;
  readonly edits: readonly TextEdit[];
}

/** One finding, before it becomes a Diagnosis: anchored on a node of the checked source. */
export interface Finding {
  /** The node the finding points at (its start is the reported line and column). */
  readonly node: ts.Node;
  /** One sentence with names: what is wrong. */
  readonly summary: string;
  /** What to change, concretely. */
  readonly fix: string;
  /** Overrides the rule's certainty. */
  readonly certainty?: Certainty;
  /** Other places involved (the first acquire, the other lock order, …). */
  readonly subjects?: readonly Subject[];
  /** A call chain or an order of events, in forward order. */
  readonly steps?: readonly Step[];
  readonly data?: Readonly<Record<string, unknown>>;
  /** Edits that would fix it, offered, never applied on their own (the finding is the user's to judge). */
  readonly suggestions?: readonly Suggestion[];
}

/** Rule options from the configuration (`asyncdoctor.config.json` → `rules.<id>.options`). */
export type RuleOptions = Readonly<Record<string, unknown>>;

/** What a file-scoped rule sees. */
export interface FileContext {
  readonly program: ts.Program;
  readonly checker: ts.TypeChecker;
  readonly sourceFile: ts.SourceFile;
  readonly options: RuleOptions;
  report(finding: Finding): void;
}

/** What a program-scoped rule sees: every file to check, and the whole program for lookups. */
export interface ProgramContext {
  readonly program: ts.Program;
  readonly checker: ts.TypeChecker;
  /** The files asked for (not lib or node_modules declarations). */
  readonly sourceFiles: readonly ts.SourceFile[];
  readonly options: RuleOptions;
  report(finding: Finding): void;
}

/** A static rule. Exactly one of the two checks is implemented, matching `meta.scope`. */
export interface Rule {
  readonly meta: RuleMeta;
  checkFile?(context: FileContext): void;
  checkProgram?(context: ProgramContext): void;
}

/**
 * What is wrong with `value` against `schema` (the subset {@link JsonSchema} has), one sentence
 * each naming the option path; empty when it fits. The CLI checks configured options with it, as
 * ESLint checks the plugin's options with the same schema.
 *
 * @example
 * ```ts
 * optionErrors(missingTimeout.meta.optionsSchema!, { wrapers: [] }, "options");
 * // ['options has an unknown key "wrapers" (expected one of: wrappers, clients)']
 * ```
 */
export function optionErrors(schema: JsonSchema, value: unknown, path: string): string[] {
  const type = schema.type;
  const got = Array.isArray(value) ? "an array" : value === null ? "null" : typeof value;
  if (type === "object") {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return [`${path} must be an object, got ${got}`];
    const rec = value as Record<string, unknown>;
    const out: string[] = [];
    const props = schema.properties ?? {};
    for (const k of Object.keys(rec)) {
      const sub = props[k];
      if (sub) out.push(...optionErrors(sub, rec[k], `${path}.${k}`));
      else if (schema.additionalProperties === false)
        out.push(`${path} has an unknown key "${k}" (expected one of: ${Object.keys(props).join(", ") || "none"})`);
    }
    for (const k of schema.required ?? []) if (!(k in rec)) out.push(`${path} is missing "${k}"`);
    return out;
  }
  if (type === "array") {
    if (!Array.isArray(value)) return [`${path} must be an array, got ${got}`];
    return schema.items ? value.flatMap((v, i) => optionErrors(schema.items!, v, `${path}[${i}]`)) : [];
  }
  if (type === "integer" ? !Number.isInteger(value) : type === "number" ? typeof value !== "number" : type !== undefined && typeof value !== type) {
    return [`${path} must be ${type === "integer" ? "an integer" : `a ${type}`}, got ${JSON.stringify(value) ?? got}`];
  }
  if (schema.enum && !schema.enum.includes(value as string | number | boolean))
    return [`${path} must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(value)}`];
  if (schema.minimum !== undefined && typeof value === "number" && value < schema.minimum) return [`${path} must be at least ${schema.minimum}, got ${value}`];
  return [];
}
