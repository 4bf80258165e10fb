/**
 * The text helpers every part of the HTML report uses: escaping (every name on the page comes
 * from user code), JSON safe inside a <script>, and short forms of text and durations.
 */
/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Short name for {@link escapeHtml}: every piece of text on the page goes through it. */
export const esc = escapeHtml;

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? String(v) : v));
  } catch {
    json = "null";
  }
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Cuts text to `n` characters, with an ellipsis. */
export function trunc(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

/** A duration for people: 0.25 ms, 12 ms, 1.50 s. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
