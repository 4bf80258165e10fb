/**
 * `asyncdoctor run` preloads this in the child: a TypeScript syntax error in the program is
 * printed as one message (file:line:column, the error, the source line), not as the stack of
 * the compiler's worker that found it.
 */
import { readFileSync } from "node:fs";
import { relative, sep } from "node:path";

/** One located compiler error, parsed from esbuild's "Transform failed" message. */
export interface SyntaxErrorInfo {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly text: string;
}

/**
 * The located errors of a TypeScript transform failure (tsx compiles through esbuild, whose
 * `TransformError` lists them as `file:line:col: ERROR: text`), or undefined for any other error.
 *
 * @example
 * ```ts
 * syntaxErrorsOf(err)?.map((e) => `${e.file}:${e.line}`);
 * ```
 */
export function syntaxErrorsOf(err: unknown): SyntaxErrorInfo[] | undefined {
  if (!(err instanceof Error) || err.name !== "TransformError") return undefined;
  const out: SyntaxErrorInfo[] = [];
  for (const m of err.message.matchAll(/^(.+?):(\d+):(\d+): ERROR: (.+)$/gm)) {
    out.push({ file: m[1]!, line: Number(m[2]), column: Number(m[3]), text: m[4]! });
  }
  return out.length > 0 ? out : undefined;
}

/** The message `asyncdoctor run` prints for a syntax error: where, what, and the line with a caret. */
export function formatSyntaxErrors(errors: readonly SyntaxErrorInfo[], cwd = process.cwd()): string {
  const parts = errors.map((e) => {
    const file = e.file.startsWith(cwd + sep) ? relative(cwd, e.file) : e.file;
    let source = "";
    try {
      const line = readFileSync(e.file, "utf8").split(/\r?\n/)[e.line - 1];
      if (line !== undefined) {
        const gutter = `${e.line} | `;
        // esbuild's columns are 0-based
        source = `\n  ${gutter}${line}\n  ${" ".repeat(gutter.length + e.column)}^`;
      }
    } catch {
      // the file may be gone or unreadable: the location alone still says where
    }
    return `asyncdoctor run: syntax error in ${file}:${e.line}:${e.column + 1}: ${e.text}${source}`;
  });
  return parts.join("\n") + "\n";
}

let installed = false;

/** Starts watching for a syntax error that would end the program (done on import, once). */
export function reportSyntaxErrorsClearly(): void {
  if (installed) return;
  installed = true;
  // a monitor changes nothing for other errors: Node's own handling goes on for them
  process.on("uncaughtExceptionMonitor", (err) => {
    const errors = syntaxErrorsOf(err);
    if (!errors) return;
    process.stderr.write(formatSyntaxErrors(errors));
    process.exit(1);
  });
}

reportSyntaxErrorsClearly();
