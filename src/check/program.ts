/**
 * Loading the program to check: from a tsconfig (given, or the nearest one), or from paths with
 * sane defaults. Anything wrong with the input (a missing path, a broken tsconfig, a file that
 * does not parse) becomes a {@link LoadProblem}; the rest is still checked.
 */
import ts from "typescript";
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { InvalidArgTypeError } from "../core/validate.js";
import { registerProgram } from "./analysis/program-of.js";

/** Something about the input the checker could not use, with where and why. */
export interface LoadProblem {
  readonly kind: "path" | "config" | "parse" | "rule";
  /** The file the problem is in (or the path given). */
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** What to load. */
export interface LoadOptions {
  /** Files and directories to check (default: the tsconfig's files, or the working directory). */
  readonly paths?: readonly string[];
  /** A tsconfig.json (or a directory holding one). */
  readonly project?: string;
  /** Where relative paths start (default `process.cwd()`). */
  readonly cwd?: string;
}

/** A loaded program and the files to check in it. */
export interface LoadedProgram {
  readonly program: ts.Program;
  readonly checker: ts.TypeChecker;
  /** The files to check, each of which parsed. */
  readonly sourceFiles: readonly ts.SourceFile[];
  readonly problems: readonly LoadProblem[];
  /** The tsconfig used, if any. */
  readonly configFile?: string;
}

const SOURCE_EXT = new Set([".ts", ".tsx", ".mts", ".cts"]);
const SKIP_DIRS = new Set(["node_modules", "dist", "build", "coverage", ".git"]);

/** Compiler options when no tsconfig is found (or it cannot be read). */
export const DEFAULT_COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts", "lib.dom.d.ts"],
  strict: true,
  skipLibCheck: true,
  noEmit: true,
  allowJs: false,
};

function isSourceFile(file: string): boolean {
  return SOURCE_EXT.has(extname(file)) && !/\.d\.[cm]?ts$/.test(file);
}

/** Lists the sources under `dir`; `seen` holds the real paths of the directories walked, so a symlink loop is walked once. */
function listSources(dir: string, out: string[], seen = new Set<string>()): void {
  let names: string[];
  try {
    const real = realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    if (SKIP_DIRS.has(name) || name.startsWith(".")) continue;
    const p = join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) listSources(p, out, seen);
    else if (isSourceFile(p)) out.push(p);
  }
}

function messageOf(d: ts.Diagnostic): string {
  return ts.flattenDiagnosticMessageText(d.messageText, "\n");
}

function problemOf(kind: LoadProblem["kind"], d: ts.Diagnostic, fallbackFile: string): LoadProblem {
  if (d.file && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return { kind, file: d.file.fileName, line: line + 1, column: character + 1, message: messageOf(d) };
  }
  return { kind, file: fallbackFile, message: messageOf(d) };
}

/** Reads a tsconfig; on failure records a problem and returns undefined. */
function readConfig(configPath: string, problems: LoadProblem[], pathsGiven: boolean): ts.ParsedCommandLine | undefined {
  const errors: ts.Diagnostic[] = [];
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => errors.push(d),
  };
  let parsed: ts.ParsedCommandLine | undefined;
  try {
    parsed = ts.getParsedCommandLineOfConfigFile(configPath, { noEmit: true }, host);
  } catch (err) {
    problems.push({ kind: "config", file: configPath, message: `cannot read the tsconfig: ${String(err)}` });
    return undefined;
  }
  // the JSON's own syntax errors are only in the parsing diagnostics, not in `errors`;
  // "no inputs found" (18003) is not a problem when paths are given
  const all = [...errors, ...(parsed ? ts.getConfigFileParsingDiagnostics(parsed) : [])];
  const real = [...new Set(all)].filter((d) => !(pathsGiven && d.code === 18003));
  for (const d of real) problems.push(problemOf("config", d, configPath));
  if (!parsed || errors.length > 0) return undefined;
  return parsed;
}

const libDir = dirname(ts.getDefaultLibFilePath({}));
const sharedFiles = new Map<string, ts.SourceFile>();

/**
 * A compiler host that parses TypeScript's lib files and @types once per process (they never
 * change under us), and parses them as tsc does: no parent pointers up front (binding, which
 * `loadProgram` does before anything reads the tree, sets them), and JSDoc only where type
 * checking a TypeScript file needs it. The DOM lib and @types/node are mostly JSDoc, and parsing
 * it was a tenth of the checker's time on a large codebase; no rule reads it.
 */
function cachingHost(options: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createCompilerHost(options, false);
  // TypeScript 5.3 and later (tsc's own setting); earlier ones parse all of it
  const mode = (ts as { JSDocParsingMode?: { ParseForTypeErrors: ts.JSDocParsingMode } }).JSDocParsingMode?.ParseForTypeErrors;
  if (mode !== undefined) host.jsDocParsingMode = mode;
  const original = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const shared = fileName.startsWith(libDir) || fileName.includes("/node_modules/@types/");
    if (!shared) return original(fileName, languageVersion, onError, shouldCreate);
    const key = `${typeof languageVersion === "object" ? languageVersion.languageVersion : languageVersion}:${fileName}`;
    let sf = sharedFiles.get(key);
    if (!sf) {
      sf = original(fileName, languageVersion, onError, shouldCreate);
      if (sf) sharedFiles.set(key, sf);
    }
    return sf;
  };
  return host;
}

/** The nearest tsconfig.json at or above `dir`. */
export function findTsconfig(dir: string): string | undefined {
  let cur = resolve(dir);
  for (;;) {
    const candidate = join(cur, "tsconfig.json");
    if (existsSync(candidate)) return candidate;
    const up = dirname(cur);
    if (up === cur) return undefined;
    cur = up;
  }
}

/** A program with no files, for input that cannot be checked at all. */
function emptyProgram(problems: LoadProblem[]): LoadedProgram {
  const program = ts.createProgram({ rootNames: [], options: { ...DEFAULT_COMPILER_OPTIONS, noLib: true } });
  return { program, checker: program.getTypeChecker(), sourceFiles: [], problems };
}

/**
 * Loads the program to check. Never throws for bad input: every problem is in `problems`.
 *
 * @example
 * ```ts
 * const { sourceFiles, problems } = loadProgram({ paths: ["src"] });
 * ```
 */
export function loadProgram(options: LoadOptions = {}): LoadedProgram {
  if (options === null || typeof options !== "object") throw new InvalidArgTypeError("options", "an object", options);
  if (options.paths !== undefined && (!Array.isArray(options.paths) || options.paths.some((p) => typeof p !== "string"))) {
    throw new InvalidArgTypeError("options.paths", "an array of strings", options.paths);
  }
  if (options.project !== undefined && typeof options.project !== "string") throw new InvalidArgTypeError("options.project", "of type string", options.project);
  if (options.cwd !== undefined && typeof options.cwd !== "string") throw new InvalidArgTypeError("options.cwd", "of type string", options.cwd);
  const cwd = resolve(options.cwd ?? process.cwd());
  const problems: LoadProblem[] = [];
  const given = ((options.paths ?? []) as readonly string[]).map((p) => resolve(cwd, p));

  let configFile: string | undefined;
  if (options.project !== undefined) {
    // as tsc -p: a file, or a directory holding tsconfig.json; anything else checks nothing
    // rather than falling back to options the project never asked for
    const given = resolve(cwd, options.project);
    const isDir = existsSync(given) && statSync(given).isDirectory();
    const p = isDir ? join(given, "tsconfig.json") : given;
    if (!existsSync(p)) {
      const message = isDir
        ? "the directory given with --project holds no tsconfig.json; nothing was checked"
        : "the tsconfig given with --project does not exist; nothing was checked";
      problems.push({ kind: "config", file: p, message });
      return emptyProgram(problems);
    }
    configFile = p;
  } else {
    const start = given[0] && existsSync(given[0]) ? (statSync(given[0]).isDirectory() ? given[0] : dirname(given[0])) : cwd;
    configFile = findTsconfig(start);
  }

  const parsed = configFile ? readConfig(configFile, problems, given.length > 0) : undefined;
  const compilerOptions: ts.CompilerOptions = parsed
    ? { ...parsed.options, noEmit: true, skipLibCheck: true, incremental: false, composite: false, declaration: false, declarationMap: false, sourceMap: false }
    : { ...DEFAULT_COMPILER_OPTIONS };

  let roots: string[] = [];
  if (given.length > 0) {
    for (const p of given) {
      if (!existsSync(p)) {
        problems.push({ kind: "path", file: p, message: "no such file or directory" });
        continue;
      }
      if (statSync(p).isDirectory()) listSources(p, roots);
      else if (isSourceFile(p)) roots.push(p);
      else problems.push({ kind: "path", file: p, message: "not a TypeScript source file (.ts, .tsx, .mts, .cts)" });
    }
  } else if (parsed) {
    roots = parsed.fileNames.filter(isSourceFile);
  } else {
    listSources(cwd, roots);
  }
  // one entry per real file: a symlinked directory or file names the same source twice
  const real = new Set<string>();
  roots = roots.filter((r) => {
    let key = r;
    try {
      key = realpathSync(r);
    } catch {
      // unreadable: TypeScript will say so
    }
    if (real.has(key)) return false;
    real.add(key);
    return true;
  });

  const program = ts.createProgram({
    rootNames: roots,
    options: compilerOptions,
    projectReferences: parsed?.projectReferences,
    host: cachingHost(compilerOptions),
  });
  // binds every file, which also sets the parent pointers the rules walk by
  const checker = program.getTypeChecker();
  registerProgram(program, checker);
  const wanted = new Set(roots.map((r) => resolve(r)));
  const sourceFiles: ts.SourceFile[] = [];
  for (const sf of program.getSourceFiles()) {
    if (!wanted.has(resolve(sf.fileName))) continue;
    const syntax = program.getSyntacticDiagnostics(sf);
    if (syntax.length > 0) {
      const first = syntax[0]!;
      const more = syntax.length > 1 ? ` (and ${syntax.length - 1} more syntax error${syntax.length > 2 ? "s" : ""})` : "";
      problems.push({ ...problemOf("parse", first, sf.fileName), message: `does not parse: ${messageOf(first)}${more}; not checked` });
      continue;
    }
    sourceFiles.push(sf);
  }
  return configFile ? { program, checker, sourceFiles, problems, configFile } : { program, checker, sourceFiles, problems };
}
