/**
 * Call sites: where a task was spawned, a lock constructed or acquired, a resource opened.
 *
 * Capturing a stack costs microseconds, so callers decide when to pay: construction of
 * long-lived objects, the moment something goes wrong, or always in debug mode. A
 * {@link LazySite} captures the raw V8 frames cheaply and formats them only when a report
 * needs them.
 */
import { readFileSync } from "node:fs";
import { findSourceMap } from "node:module";
import { fileURLToPath } from "node:url";
import { sep } from "node:path";

/** A place in the user's source code. */
export interface Site {
  /** Absolute path (or URL for non-file modules). */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** The enclosing function's name, when V8 knows it. */
  readonly functionName?: string | undefined;
}

/** The directory that holds asyncdoctor's own code (src/ or dist/…/src/), found at load time. */
const OWN_DIR: string = (() => {
  // the first frame above rawFrames is this initialiser, in this very file
  const frames = rawFrames(1, rawFrames);
  const file = frames[0] ? frameFile(frames[0]) : undefined;
  if (!file) return "\0";
  // this file lives in <root>/core/site.(ts|js): the package's own code is everything under <root>
  const parts = file.split(sep);
  return parts.slice(0, -2).join(sep) + sep;
})();

/** True when the file belongs to asyncdoctor itself or to Node's internals. */
export function isInternalFile(file: string): boolean {
  return (
    file.startsWith(OWN_DIR) || file.startsWith("node:") || (!file.includes("/") && !file.includes("\\")) || file.includes(`${sep}node_modules${sep}tsx${sep}`)
  );
}

function frameFile(frame: NodeJS.CallSite): string | undefined {
  const name = frame.getFileName() ?? frame.getScriptNameOrSourceURL?.() ?? undefined;
  if (!name) return undefined;
  if (name.startsWith("file://")) {
    try {
      return fileURLToPath(name);
    } catch {
      return name;
    }
  }
  return name;
}

function rawFrames(limit: number, above: Function): NodeJS.CallSite[] {
  const prevPrepare = Error.prepareStackTrace;
  const prevLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = limit;
  Error.prepareStackTrace = (_e, frames) => frames;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  Error.captureStackTrace(holder, above);
  const frames = holder.stack ?? [];
  Error.prepareStackTrace = prevPrepare;
  Error.stackTraceLimit = prevLimit;
  return frames;
}

function toSite(frame: NodeJS.CallSite): Site | undefined {
  const file = frameFile(frame);
  const line = frame.getLineNumber();
  if (!file || line === null) return undefined;
  const functionName = frame.getFunctionName() ?? frame.getMethodName() ?? undefined;
  const column = frame.getColumnNumber() ?? 1;
  return mapToSource({ file, line, column, functionName }, frame.getFileName() ?? file);
}

/**
 * Structured frames carry generated positions; when source maps are on (tsx, or
 * --enable-source-maps with compiled code) report the original TypeScript position instead.
 */
function mapToSource(site: Site, rawName: string): Site {
  let map;
  try {
    map = findSourceMap(rawName) ?? (rawName !== site.file ? findSourceMap(site.file) : undefined);
  } catch {
    return site;
  }
  if (!map) return site;
  const entry = map.findEntry(site.line - 1, site.column - 1) as Partial<{
    originalSource: string;
    originalLine: number;
    originalColumn: number;
  }>;
  if (!entry || entry.originalSource === undefined || entry.originalLine === undefined) return site;
  let file = entry.originalSource;
  if (file.startsWith("file://")) {
    try {
      file = fileURLToPath(file);
    } catch {
      // keep the URL
    }
  }
  return { file, line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1, functionName: site.functionName };
}

/**
 * The first frame outside asyncdoctor and Node's internals, above `above` on the stack.
 * Costs a stack walk: call it where it is worth it.
 */
export function captureSite(above: Function = captureSite, depth = 24): Site | undefined {
  return firstUserSite(rawFrames(depth, above));
}

/** The user frames of the current stack, innermost first. */
export function captureStack(above: Function = captureStack, depth = 32): Site[] {
  const out: Site[] = [];
  for (const f of rawFrames(depth, above)) {
    const file = frameFile(f);
    if (!file || isInternalFile(file)) continue;
    const s = toSite(f);
    if (s) out.push(s);
  }
  return out;
}

function firstUserSite(frames: readonly NodeJS.CallSite[]): Site | undefined {
  for (const f of frames) {
    const file = frameFile(f);
    if (!file || isInternalFile(file)) continue;
    return toSite(f);
  }
  return undefined;
}

/**
 * A site captured now and resolved later: holds V8's structured frames (cheap to take with a
 * short limit) and picks the user frame only when somebody reads it.
 */
export class LazySite {
  #frames: NodeJS.CallSite[] | undefined;
  #site: Site | undefined | null = null;

  constructor(above: Function, depth = 12) {
    this.#frames = rawFrames(depth, above);
  }

  /** The resolved site, or undefined when every frame was internal. */
  get site(): Site | undefined {
    if (this.#site === null) {
      this.#site = firstUserSite(this.#frames ?? []);
      this.#frames = undefined;
    }
    return this.#site;
  }
}

/** `file:line:column`, with the path relative to the working directory when inside it. */
export function formatSite(site: Site | undefined): string {
  if (!site) return "<unknown site>";
  return `${relativeFile(site.file)}:${site.line}:${site.column}`;
}

/** A path shortened to be relative to the current directory when it lies inside it. */
export function relativeFile(file: string): string {
  const cwd = process.cwd() + sep;
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}

const sourceCache = new Map<string, string[] | undefined>();

/** The lines of a source file (cached), or undefined when it cannot be read. */
export function sourceLines(file: string): readonly string[] | undefined {
  if (!sourceCache.has(file)) {
    let lines: string[] | undefined;
    try {
      lines = readFileSync(file, "utf8").split(/\r?\n/);
    } catch {
      lines = undefined;
    }
    sourceCache.set(file, lines);
  }
  return sourceCache.get(file);
}

/** The text of the site's source line, trimmed, when the file can be read. */
export function sourceLine(site: Site | undefined): string | undefined {
  if (!site) return undefined;
  const lines = sourceLines(site.file);
  const text = lines?.[site.line - 1];
  return text === undefined ? undefined : text.trim();
}

/** The raw V8 frames above `above` (structured, unformatted: cheap with a small limit). */
export function captureFrames(above: Function, depth: number): NodeJS.CallSite[] {
  return rawFrames(depth, above);
}

/** The file of a raw frame (a path for file URLs), or undefined for builtins. */
export function frameFileName(frame: NodeJS.CallSite): string | undefined {
  return frameFile(frame);
}

/** A raw frame as a Site (source-mapped when a source map is known). */
export function frameToSite(frame: NodeJS.CallSite): Site | undefined {
  return toSite(frame);
}

/** Where the package's TypeScript sources are, when running from dist/esm or dist/cjs. */
const OWN_SOURCE_DIR: string = OWN_DIR.replace(/dist[\\/](?:esm|cjs)[\\/]/, "");

/**
 * Like {@link captureSite}, but when a tool maps stack traces itself (it set
 * `Error.prepareStackTrace`, as Vitest does for the code it transforms), reads the position from
 * the formatted stack, which that tool has mapped; V8's structured frames would give the
 * generated position.
 */
export function captureSiteMapped(above: Function = captureSiteMapped): Site | undefined {
  if (typeof Error.prepareStackTrace !== "function") return captureSite(above);
  const holder: { stack?: string } = {};
  const prevLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 24;
  Error.captureStackTrace(holder, above);
  Error.stackTraceLimit = prevLimit;
  for (const line of String(holder.stack ?? "")
    .split("\n")
    .slice(1)) {
    const m = /^\s*at (?:(?:async )?([^\s(]+) \()?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?$/.exec(line);
    if (!m) continue;
    let file = m[2] ?? "";
    if (file.startsWith("file://")) {
      try {
        file = fileURLToPath(file);
      } catch {
        continue;
      }
    }
    // a mapped frame of the built package points at its TypeScript source: internal as well
    if (isInternalFile(file) || file.startsWith(OWN_SOURCE_DIR)) continue;
    return { file, line: Number(m[3]), column: Number(m[4]), functionName: m[1] };
  }
  return captureSite(above);
}

/**
 * The file `above` (a function of the calling module) is in, read from the stack: works in the
 * ESM and the CommonJS build alike (no import.meta), for modules that locate their neighbours.
 */
export function moduleFileOf(above: Function): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, above);
  const m = /(?:file:\/\/)?(\/[^\s():]+\.(?:[cm]?js|ts)):\d+:\d+/.exec(holder.stack ?? "");
  if (!m?.[1]) throw new Error("asyncdoctor: cannot locate its own files");
  return m[1];
}

/** asyncdoctor's package root from one of its files: <root>/src/… or <root>/dist/<esm|cjs>/src/…. */
export function packageRootOf(file: string): string {
  const parts = file.split(sep).slice(0, -1);
  const src = parts.lastIndexOf("src");
  const upTo = parts[src - 2] === "dist" ? src - 2 : src;
  return parts.slice(0, upTo).join(sep) + sep;
}
