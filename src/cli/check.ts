/**
 * `asyncdoctor check [paths…]`: the static checker. Findings go to stdout (text, JSON or
 * SARIF); problems with the input and progress go to stderr. Exit status, first match wins:
 * 2 for a usage error or input that could not be used (a broken tsconfig or configuration, a
 * missing path, a file that does not parse), even when there are findings, since a partial
 * check must not pass for a clean one; 1 when a finding is at or above `failOn` or the warnings
 * exceed `--max-warnings` (never with `--report-only`); 0 otherwise.
 */
import { CommanderError, InvalidArgumentError, Option } from "commander";
import type { Command } from "commander";
import { ConfigError, loadConfig } from "../check/config.js";
import type { CheckConfig } from "../check/config.js";
import { check, severityOf } from "../check/runner.js";
import type { CheckResult } from "../check/runner.js";
import { rules } from "../check/rules/index.js";
import { relativeFile } from "../core/site.js";
import { renderJson } from "../report/json.js";
import { renderSarif } from "../report/sarif.js";
import { renderText } from "../report/text.js";

interface CheckCliOptions {
  project?: string;
  format: "text" | "json" | "sarif";
  rule?: string[];
  listRules?: boolean;
  config?: string;
  failOn?: "error" | "warning";
  color?: boolean;
  maxWarnings?: number;
  reportOnly?: boolean;
}

/** Exit status for a usage error (an unknown flag, a bad option value), as for a broken input. */
export const USAGE_ERROR = 2;

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a whole number of warnings (0 or more), got "${value}"`);
  return n;
}

function progress(): ((done: number, total: number, file: string) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (done, total, file) => {
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    const line = done < total ? `asyncdoctor check: ${done}/${total} ${relativeFile(file)}` : "";
    process.stderr.write(`\r\u001b[K${line.slice(0, (process.stderr.columns ?? 80) - 1)}`);
  };
}

function summaryLine(result: CheckResult): string {
  const errors = result.diagnoses.filter((d) => severityOf(d) === "error").length;
  const warnings = result.diagnoses.length - errors;
  const n = result.diagnoses.length;
  const files = `${result.filesChecked} file${result.filesChecked === 1 ? "" : "s"}`;
  if (n === 0) return `asyncdoctor check: no findings in ${files}.`;
  return `asyncdoctor check: ${n} finding${n === 1 ? "" : "s"} (${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}) in ${files}.`;
}

/** The exit status of a check: unusable input first, then findings (see the file comment). */
export function exitCode(result: CheckResult, tooManyWarnings: boolean, reportOnly: boolean): 0 | 1 | 2 {
  if (result.problems.length > 0) return 2;
  if (reportOnly) return 0;
  return result.failed || tooManyWarnings ? 1 : 0;
}

/** Registers `check` on the program. */
export function registerCheck(program: Command, setCode: (code: number) => void): void {
  program
    .command("check")
    .description("find async bugs in TypeScript source before they run")
    .argument("[paths...]", "files and directories to check (default: the tsconfig's files)")
    .option("-p, --project <tsconfig>", "the tsconfig.json to load (default: the nearest one)")
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json", "sarif"]).default("text"))
    .option("-r, --rule <id>", "run only this rule (repeat, or separate ids with commas)", (value: string, previous: string[] | undefined) => [
      ...(previous ?? []),
      ...value
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v.length > 0),
    ])
    .option("--list-rules", "list the rules and exit")
    .option("-c, --config <file>", "configuration file (default: asyncdoctor.config.json or package.json#asyncdoctor, found upwards)")
    .addOption(new Option("--fail-on <severity>", "exit 1 on findings at or above this severity (overrides the config)").choices(["error", "warning"]))
    .option("--max-warnings <n>", "also exit 1 when there are more than n warnings", nonNegativeInteger)
    .option("--report-only", "write the report and exit 0 whatever it finds (for SARIF uploads); unusable input still exits 2")
    .option("--no-color", "no ANSI colours in text output")
    .exitOverride((err) => {
      // help and --version exit 0; every usage error exits 2, as a broken input does
      throw err.exitCode === 0 ? err : new CommanderError(USAGE_ERROR, err.code, err.message);
    })
    .action((paths: string[], opts: CheckCliOptions) => {
      if (opts.listRules) {
        const width = Math.max(...rules.map((r) => r.meta.id.length));
        for (const r of rules) {
          process.stdout.write(`${r.meta.id.padEnd(width)} ${r.meta.defaultSeverity.padEnd(8)} ${r.meta.scope.padEnd(8)} ${r.meta.description}\n`);
        }
        return;
      }
      if (opts.rule) {
        const unknown = opts.rule.filter((id) => !rules.some((r) => r.meta.id === id));
        if (unknown.length > 0) {
          process.stderr.write(
            `asyncdoctor check: unknown rule ${unknown.map((u) => `"${u}"`).join(", ")}; known rules: ${rules.map((r) => r.meta.id).join(", ")}\n`,
          );
          setCode(2);
          return;
        }
      }
      let config: CheckConfig;
      try {
        config = loadConfig(process.cwd(), rules, opts.config);
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`asyncdoctor check: broken configuration: ${err.message}\n`);
          setCode(2);
          return;
        }
        throw err;
      }
      if (opts.failOn) config = { ...config, failOn: opts.failOn };
      const onProgress = progress();
      const result = check({ paths, project: opts.project, config, only: opts.rule, onProgress });
      onProgress?.(1, 1, "");
      for (const p of result.problems) {
        const where = p.line ? `${relativeFile(p.file)}:${p.line}:${p.column ?? 1}` : relativeFile(p.file);
        process.stderr.write(`asyncdoctor check: ${where}: ${p.message}\n`);
      }
      if (opts.format === "json") process.stdout.write(renderJson(result.diagnoses));
      else if (opts.format === "sarif") {
        const ran = rules.filter((r) => !opts.rule || opts.rule.includes(r.meta.id));
        process.stdout.write(
          renderSarif(result.diagnoses, {
            rules: ran.map((r) => ({ ...r.meta, defaultSeverity: config.rules[r.meta.id]?.severity === "warning" ? "warning" : r.meta.defaultSeverity })),
          }),
        );
      } else {
        const color = opts.color !== false && !process.env.NO_COLOR && (process.env.FORCE_COLOR !== undefined || process.stdout.isTTY === true);
        for (const d of result.diagnoses) process.stdout.write(renderText(d, { color, codeFrame: true }) + "\n");
        process.stdout.write(summaryLine(result) + "\n");
      }
      const warnings = result.diagnoses.filter((d) => severityOf(d) === "warning").length;
      const tooManyWarnings = opts.maxWarnings !== undefined && warnings > opts.maxWarnings;
      if (tooManyWarnings)
        process.stderr.write(`asyncdoctor check: ${warnings} warning${warnings === 1 ? "" : "s"}, more than --max-warnings ${opts.maxWarnings}\n`);
      setCode(exitCode(result, tooManyWarnings, opts.reportOnly === true));
    });
}
