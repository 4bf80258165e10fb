/**
 * Keeps source maps true after the await-graph transform inserts text: every generated column
 * after an insertion moves right by what was inserted before it. A compiler's inline map (tsx
 * writes all of a module on one line) is shifted segment by segment; a file with no map gets
 * one that maps each line to itself and each inserted stretch back to where it was inserted, so
 * stack traces and reports keep naming the user's lines.
 */

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** One decoded segment: generated column, then (source, line, column[, name]) relative values made absolute. */
type Segment = number[];

function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let src = 0;
  let srcLine = 0;
  let srcCol = 0;
  let name = 0;
  for (const lineText of mappings.split(";")) {
    const line: Segment[] = [];
    let col = 0;
    if (lineText.length > 0) {
      for (const seg of lineText.split(",")) {
        if (seg.length === 0) continue;
        const v = decodeVlq(seg);
        col += v[0]!;
        const out: Segment = [col];
        if (v.length >= 4) {
          src += v[1]!;
          srcLine += v[2]!;
          srcCol += v[3]!;
          out.push(src, srcLine, srcCol);
          if (v.length >= 5) {
            name += v[4]!;
            out.push(name);
          }
        }
        line.push(out);
      }
    }
    lines.push(line);
  }
  return lines;
}

function encodeMappings(lines: Segment[][]): string {
  let src = 0;
  let srcLine = 0;
  let srcCol = 0;
  let name = 0;
  const out: string[] = [];
  for (const line of lines) {
    let col = 0;
    const segs: string[] = [];
    for (const s of line) {
      const rel = [s[0]! - col];
      col = s[0]!;
      if (s.length >= 4) {
        rel.push(s[1]! - src, s[2]! - srcLine, s[3]! - srcCol);
        src = s[1]!;
        srcLine = s[2]!;
        srcCol = s[3]!;
        if (s.length >= 5) {
          rel.push(s[4]! - name);
          name = s[4]!;
        }
      }
      segs.push(rel.map(encodeVlq).join(""));
    }
    out.push(segs.join(","));
  }
  return out.join(";");
}

function decodeVlq(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of text) {
    const digit = B64_INDEX.get(c);
    if (digit === undefined) throw new Error(`bad base64 digit "${c}" in a source map`);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encodeVlq(n: number): string {
  let v = n < 0 ? (-n << 1) | 1 : n << 1;
  let s = "";
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    s += B64[digit];
  } while (v > 0);
  return s;
}

/** Line starts of a text (offsets of each line's first character). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** Insertions grouped by line: [column, inserted length], in column order. */
function byLine(source: string, inserts: readonly (readonly [number, number])[]): Map<number, [number, number][]> {
  const starts = lineStarts(source);
  const out = new Map<number, [number, number][]>();
  for (const [offset, len] of inserts) {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const list = out.get(lo) ?? [];
    list.push([offset - starts[lo]!, len]);
    out.set(lo, list);
  }
  for (const list of out.values()) list.sort((a, b) => a[0] - b[0]);
  return out;
}

/** How far a generated column moves: the text inserted at or before it on its line. */
function shifted(col: number, inserts: readonly [number, number][] | undefined): number {
  if (inserts === undefined) return col;
  let add = 0;
  for (const [at, len] of inserts) {
    if (at > col) break;
    add += len;
  }
  return col + add;
}

const INLINE = /\/\/# sourceMappingURL=data:application\/json;(?:charset=[^;,]+;)?base64,([A-Za-z0-9+/=]+)\s*$/;

/**
 * The inline source-map comment for the transformed text: the compiler's map shifted, or a new
 * map of the file onto itself. `inserts` are [offset in the original, length inserted].
 */
export function shiftSourceMap(original: string, file: string, inserts: readonly (readonly [number, number])[]): { comment: string; hadOwn: boolean } {
  const lines = byLine(original, inserts);
  const m = INLINE.exec(original.slice(-2_000_000));
  if (m?.[1]) {
    try {
      const map = JSON.parse(Buffer.from(m[1], "base64").toString("utf8")) as { mappings: string };
      const decoded = decodeMappings(map.mappings);
      decoded.forEach((segs, i) => {
        const ins = lines.get(i);
        if (ins !== undefined) for (const s of segs) s[0] = shifted(s[0]!, ins);
      });
      map.mappings = encodeMappings(decoded);
      return { comment: inlineComment(map), hadOwn: true };
    } catch {
      // an unreadable map: fall through and map the file onto itself
    }
  }
  const count = lineStarts(original).length;
  const decoded: Segment[][] = [];
  for (let i = 0; i < count; i++) {
    // each original column c is at c + (what was inserted at or before c); a segment starts
    // right after each insertion point, mapping back to that point
    const segs: Segment[] = [[0, 0, i, 0]];
    const ins = lines.get(i) ?? [];
    let add = 0;
    for (let k = 0; k < ins.length; k++) {
      const at = ins[k]![0];
      add += ins[k]![1];
      if (k + 1 < ins.length && ins[k + 1]![0] === at) continue;
      segs.push([at + add, 0, i, at]);
    }
    decoded.push(segs);
  }
  return { comment: inlineComment({ version: 3, sources: [file], names: [], mappings: encodeMappings(decoded) }), hadOwn: false };
}

function inlineComment(map: object): string {
  return `//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(map)).toString("base64")}`;
}

/** The source without its inline source-map comment (the transform appends the shifted one). */
export function withoutInlineMap(source: string): string {
  const m = INLINE.exec(source.slice(-2_000_000));
  return m === null ? source : source.slice(0, source.length - m[0].length);
}
