/**
 * Suppression comments: `// asyncdoctor-ignore floating-promise -- why it is fine` on the line
 * before a finding (or at the end of its line), and `// asyncdoctor-ignore-file rule -- why`
 * for a whole file. A suppression must give its reason; one without is reported itself.
 */
import ts from "typescript";

/** One suppression comment. */
export interface Suppression {
  /** The rule ids it silences. */
  readonly rules: readonly string[];
  /** The reason after `--`, trimmed; empty when missing. */
  readonly reason: string;
  /** 1-based line it applies to; 0 for the whole file. */
  readonly appliesTo: number;
  /** 1-based line and column of the comment itself. */
  readonly line: number;
  readonly column: number;
}

const PATTERN = /^(?:\/\/|\/\*)\s*asyncdoctor-ignore(-file)?(?:\s+([A-Za-z0-9_,\s-]*?))?\s*(?:--\s*([\s\S]*?))?\s*(?:\*\/)?$/;

/** Every comment of `sf` whose text contains `marker`, once each, in no particular order (comments only, never string contents). */
function commentsWith(sf: ts.SourceFile, marker: string, take: (range: ts.CommentRange) => void): void {
  const text = sf.text;
  if (!text.includes(marker)) return;
  const seen = new Set<number>();
  const one = (range: ts.CommentRange): void => {
    if (seen.has(range.pos)) return;
    seen.add(range.pos);
    if (text.slice(range.pos, range.end).includes(marker)) take(range);
  };
  const visit = (n: ts.Node): void => {
    for (const r of ts.getLeadingCommentRanges(text, n.pos) ?? []) one(r);
    for (const r of ts.getTrailingCommentRanges(text, n.end) ?? []) one(r);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  for (const r of ts.getLeadingCommentRanges(text, sf.endOfFileToken.pos) ?? []) one(r);
}

/** Every suppression comment in `sf` (comments only, never string contents). */
export function findSuppressions(sf: ts.SourceFile): Suppression[] {
  const text = sf.text;
  const out: Suppression[] = [];
  commentsWith(sf, "asyncdoctor-ignore", (range) => {
    const body = text.slice(range.pos, range.end);
    const m = PATTERN.exec(body.trim());
    if (!m) return;
    const { line, character } = sf.getLineAndCharacterOfPosition(range.pos);
    const lineStart = sf.getPositionOfLineAndCharacter(line, 0);
    const trailing = text.slice(lineStart, range.pos).trim().length > 0;
    const rules = (m[2] ?? "").split(/[\s,]+/).filter((r) => r.length > 0);
    let appliesTo = 0;
    if (!m[1]) {
      appliesTo = line + 1;
      if (!trailing) {
        // the next line that holds code
        const endLine = sf.getLineAndCharacterOfPosition(range.end).line;
        const lines = sf.getLineStarts();
        let next = endLine + 1;
        while (next < lines.length) {
          const s = text.slice(lines[next], lines[next + 1] ?? text.length).trim();
          if (s.length > 0 && !s.startsWith("//")) break;
          next++;
        }
        appliesTo = next + 1;
      }
    }
    out.push({ rules, reason: (m[3] ?? "").trim(), appliesTo, line: line + 1, column: character + 1 });
  });
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** True when a suppression in `list` silences rule `rule` at `line`. */
export function isSuppressed(list: readonly Suppression[], rule: string, line: number): Suppression | undefined {
  return list.find((s) => s.rules.includes(rule) && (s.appliesTo === 0 || s.appliesTo === line));
}

/** The ESLint prefix of asyncdoctor's rules in the plugin. */
const ESLINT_PREFIX = "asyncdoctor/";

const ESLINT_PATTERN = /^(?:\/\/|\/\*)\s*eslint-(disable-next-line|disable-line|disable|enable)(?:\s+([^]*?))?\s*(?:\*\/)?$/;

/**
 * The `eslint-disable` comments of a file that concern asyncdoctor's rules, as a question: is
 * rule `id` disabled at `line`? A directive naming no rule disables every rule, as in ESLint;
 * one naming rules disables the `asyncdoctor/…` ones among them. Reasons after `--` are
 * ESLint's to require or not.
 *
 * @example
 * ```ts
 * const disabled = eslintDisabled(sourceFile);
 * if (disabled("floating-promise", 12)) return;
 * ```
 */
export function eslintDisabled(sf: ts.SourceFile): (id: string, line: number) => boolean {
  const text = sf.text;
  const lines = new Map<number, (string | undefined)[]>();
  const blocks: { line: number; enable: boolean; rules: string[] | undefined }[] = [];
  commentsWith(sf, "eslint-", (range) => {
    const m = ESLINT_PATTERN.exec(text.slice(range.pos, range.end).trim());
    if (!m) return;
    const listed = (m[2] ?? "")
      .split("--")[0]!
      .split(",")
      .map((r) => r.trim())
      .filter((r) => r.length > 0);
    const ours = listed.filter((r) => r.startsWith(ESLINT_PREFIX)).map((r) => r.slice(ESLINT_PREFIX.length));
    if (listed.length > 0 && ours.length === 0) return;
    const rules = listed.length === 0 ? undefined : ours;
    const start = sf.getLineAndCharacterOfPosition(range.pos).line + 1;
    const end = sf.getLineAndCharacterOfPosition(range.end).line + 1;
    const add = (line: number) => {
      const list = lines.get(line) ?? [];
      list.push(...(rules ?? [undefined]));
      lines.set(line, list);
    };
    if (m[1] === "disable-line") add(start);
    else if (m[1] === "disable-next-line") add(end + 1);
    else blocks.push({ line: start, enable: m[1] === "enable", rules });
  });
  blocks.sort((a, b) => a.line - b.line);
  return (id, line) => {
    const here = lines.get(line);
    if (here && here.some((r) => r === undefined || r === id)) return true;
    let disabled = false;
    for (const b of blocks) {
      if (b.line > line) break;
      if (b.rules === undefined || b.rules.includes(id)) disabled = !b.enable;
    }
    return disabled;
  };
}
