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

/** Every suppression comment in `sf` (comments only, never string contents). */
export function findSuppressions(sf: ts.SourceFile): Suppression[] {
  const text = sf.text;
  if (!text.includes("asyncdoctor-ignore")) return [];
  const seen = new Set<number>();
  const out: Suppression[] = [];
  const take = (range: ts.CommentRange): void => {
    if (seen.has(range.pos)) return;
    seen.add(range.pos);
    const body = text.slice(range.pos, range.end);
    if (!body.includes("asyncdoctor-ignore")) return;
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
  };
  const visit = (n: ts.Node): void => {
    for (const r of ts.getLeadingCommentRanges(text, n.pos) ?? []) take(r);
    for (const r of ts.getTrailingCommentRanges(text, n.end) ?? []) take(r);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  for (const r of ts.getLeadingCommentRanges(text, sf.endOfFileToken.pos) ?? []) take(r);
  return out;
}

/** True when a suppression in `list` silences rule `rule` at `line`. */
export function isSuppressed(list: readonly Suppression[], rule: string, line: number): Suppression | undefined {
  return list.find((s) => s.rules.includes(rule) && (s.appliesTo === 0 || s.appliesTo === line));
}
