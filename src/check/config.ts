/**
 * The checker's configuration: `asyncdoctor.config.json`, or the `asyncdoctor` key of
 * package.json, found from the working directory upwards (or given with `--config`).
 *
 * ```json
 * { "rules": { "missing-timeout": "off", "floating-promise": { "severity": "warning", "options": { … } } },
 *   "failOn": "error" }
 * ```
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Rule, RuleOptions, Severity } from "./rule.js";

/** The settings of one rule after defaults are applied. */
export interface RuleSetting {
  readonly severity: Severity;
  readonly options: RuleOptions;
}

/** The configuration the runner uses. */
export interface CheckConfig {
  /** Per rule id. Rules not listed use their default severity and no options. */
  readonly rules: Readonly<Record<string, RuleSetting>>;
  /** Findings at or above this severity make `check` exit 1 (default `error`). */
  readonly failOn: Exclude<Severity, "off">;
  /** Where the configuration came from, if a file. */
  readonly source?: string;
}

/** A configuration that cannot be used: the file and what is wrong with it. */
export class ConfigError extends Error {
  readonly code = "ASYNCDOCTOR_CONFIG";
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "ConfigError";
  }
}

const SEVERITIES: readonly Severity[] = ["error", "warning", "off"];

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Validates a raw configuration object against the known rules.
 *
 * @example
 * ```ts
 * const config = parseConfig({ rules: { "missing-timeout": "off" } }, rules, "inline");
 * ```
 */
export function parseConfig(raw: unknown, known: readonly Rule[], source: string): CheckConfig {
  if (!isObject(raw)) throw new ConfigError(source, `the configuration must be an object, got ${Array.isArray(raw) ? "an array" : typeof raw}`);
  for (const key of Object.keys(raw)) {
    if (key !== "rules" && key !== "failOn" && key !== "$schema") throw new ConfigError(source, `unknown key "${key}" (expected "rules" or "failOn")`);
  }
  const failOn = raw.failOn ?? "error";
  if (failOn !== "error" && failOn !== "warning") throw new ConfigError(source, `"failOn" must be "error" or "warning", got ${JSON.stringify(failOn)}`);
  const rules: Record<string, RuleSetting> = {};
  for (const r of known) rules[r.meta.id] = { severity: r.meta.defaultSeverity, options: {} };
  if (raw.rules !== undefined) {
    if (!isObject(raw.rules)) throw new ConfigError(source, `"rules" must be an object of rule id → severity, got ${JSON.stringify(raw.rules)}`);
    for (const [id, value] of Object.entries(raw.rules)) {
      const rule = known.find((r) => r.meta.id === id);
      if (!rule) throw new ConfigError(source, `unknown rule "${id}"; known rules: ${known.map((r) => r.meta.id).join(", ")}`);
      if (typeof value === "string") {
        if (!SEVERITIES.includes(value as Severity))
          throw new ConfigError(source, `rule "${id}": severity must be one of ${SEVERITIES.join(", ")}, got ${JSON.stringify(value)}`);
        rules[id] = { severity: value as Severity, options: {} };
      } else if (isObject(value)) {
        const severity = value.severity ?? rule.meta.defaultSeverity;
        if (!SEVERITIES.includes(severity as Severity))
          throw new ConfigError(source, `rule "${id}": severity must be one of ${SEVERITIES.join(", ")}, got ${JSON.stringify(severity)}`);
        if (value.options !== undefined && !isObject(value.options))
          throw new ConfigError(source, `rule "${id}": "options" must be an object, got ${JSON.stringify(value.options)}`);
        rules[id] = { severity: severity as Severity, options: value.options ?? {} };
      } else {
        throw new ConfigError(source, `rule "${id}": expected a severity or { severity, options }, got ${JSON.stringify(value)}`);
      }
    }
  }
  return { rules, failOn, source };
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, `cannot read it: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(file, `is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Finds and reads the configuration: `explicit` if given, else the nearest
 * `asyncdoctor.config.json` or package.json with an `asyncdoctor` key at or above `dir`.
 * Throws {@link ConfigError} for a broken one; returns the defaults when there is none.
 *
 * @example
 * ```ts
 * const config = loadConfig(process.cwd(), rules);
 * ```
 */
export function loadConfig(dir: string, known: readonly Rule[], explicit?: string): CheckConfig {
  if (explicit !== undefined) {
    const file = resolve(dir, explicit);
    if (!existsSync(file)) throw new ConfigError(file, "the configuration file does not exist");
    const raw = readJson(file);
    const body = file.endsWith("package.json") && isObject(raw) ? raw.asyncdoctor : raw;
    return parseConfig(body, known, file);
  }
  let cur = resolve(dir);
  for (;;) {
    const own = join(cur, "asyncdoctor.config.json");
    if (existsSync(own)) return parseConfig(readJson(own), known, own);
    const pkg = join(cur, "package.json");
    if (existsSync(pkg)) {
      const raw = readJson(pkg);
      if (isObject(raw) && raw.asyncdoctor !== undefined) return parseConfig(raw.asyncdoctor, known, `${pkg}#asyncdoctor`);
    }
    const up = dirname(cur);
    if (up === cur) return parseConfig({}, known, "defaults");
    cur = up;
  }
}
