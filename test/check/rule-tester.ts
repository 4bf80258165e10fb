/**
 * valid/invalid cases for one rule, as typescript-eslint's RuleTester does: each case is a
 * small in-memory program (lib files parsed once and shared), checked with the type checker.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import path from "node:path";
import ts from "typescript";
import { registerProgram } from "../../src/check/analysis/program-of.js";
import type { Finding, Rule, RuleOptions } from "../../src/check/rule.js";

/** Extra files of a case: path (relative to the case's root) → content. `.d.ts` stubs of packages go under `node_modules/<pkg>/index.d.ts`. */
export type CaseFiles = Readonly<Record<string, string>>;

export interface ValidCase {
  readonly name?: string;
  readonly code: string;
  readonly files?: CaseFiles;
  readonly options?: RuleOptions;
}

export interface ExpectedFinding {
  /** 1-based line of the finding in `code`. */
  readonly line: number;
  /** A pattern the summary must match. */
  readonly summary?: RegExp;
  /** A pattern the fix must match. */
  readonly fix?: RegExp;
}

export interface InvalidCase extends ValidCase {
  readonly findings: readonly ExpectedFinding[];
}

const ROOT = "/virtual";
const MAIN = `${ROOT}/main.ts`;
const libDir = path.dirname(ts.getDefaultLibFilePath({}));
const libCache = new Map<string, ts.SourceFile>();

const compilerOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts", "lib.dom.d.ts"],
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
};

/** Builds a program from `code` (as main.ts) and `files`; lib files come from disk, parsed once. */
export function buildProgram(code: string, files: CaseFiles = {}): ts.Program {
  const virtual = new Map<string, string>([[MAIN, code]]);
  for (const [p, text] of Object.entries(files)) virtual.set(path.posix.join(ROOT, p), text);
  const host: ts.CompilerHost = {
    getSourceFile(fileName, languageVersion) {
      const v = virtual.get(fileName);
      if (v !== undefined) return ts.createSourceFile(fileName, v, languageVersion, true);
      let sf = libCache.get(fileName);
      if (!sf && fileName.startsWith(libDir)) {
        const text = ts.sys.readFile(fileName);
        if (text === undefined) return undefined;
        sf = ts.createSourceFile(fileName, text, languageVersion, true);
        libCache.set(fileName, sf);
      }
      return sf;
    },
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    writeFile: () => {},
    getCurrentDirectory: () => ROOT,
    getDirectories: () => [],
    fileExists: (f) => virtual.has(f) || (f.startsWith(libDir) && ts.sys.fileExists(f)),
    readFile: (f) => virtual.get(f) ?? (f.startsWith(libDir) ? ts.sys.readFile(f) : undefined),
    getCanonicalFileName: (f) => f,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => "\n",
    directoryExists: (d) => d.startsWith(libDir) || [...virtual.keys()].some((k) => k.startsWith(d + "/")),
  };
  const roots = [MAIN, ...[...virtual.keys()].filter((k) => k !== MAIN && k.endsWith(".ts") && !k.includes("/node_modules/"))];
  return ts.createProgram(roots, compilerOptions, host);
}

/** Runs `rule` on a case; returns its findings (on every checked file; main.ts first). */
export function runRule(rule: Rule, c: ValidCase): Finding[] {
  const program = buildProgram(c.code, c.files);
  const checker = program.getTypeChecker();
  // as the runner does: the shared analyses see the program's files (and skip what cannot matter)
  registerProgram(program, checker);
  const sourceFiles = program.getSourceFiles().filter((f) => f.fileName.startsWith(ROOT) && !f.fileName.includes("/node_modules/"));
  const found: Finding[] = [];
  const report = (f: Finding) => found.push(f);
  const options = c.options ?? {};
  if (rule.checkProgram) rule.checkProgram({ program, checker, sourceFiles, options, report });
  if (rule.checkFile) for (const sourceFile of sourceFiles) rule.checkFile({ program, checker, sourceFile, options, report });
  return found;
}

/** The 1-based line of a finding. */
export function lineOf(f: Finding): number {
  const sf = f.node.getSourceFile();
  return sf.getLineAndCharacterOfPosition(f.node.getStart(sf)).line + 1;
}

/** Declares one `it` per case: valid cases must produce nothing, invalid ones exactly the findings listed. */
export function ruleTester(rule: Rule, cases: { valid: readonly (ValidCase | string)[]; invalid: readonly InvalidCase[] }): void {
  describe(`rule ${rule.meta.id}`, () => {
    describe("valid", () => {
      cases.valid.forEach((v, i) => {
        const c = typeof v === "string" ? { code: v } : v;
        it(c.name ?? `valid #${i + 1}`, () => {
          const found = runRule(rule, c).filter((f) => f.node.getSourceFile().fileName === MAIN);
          assert.deepEqual(
            found.map((f) => `${lineOf(f)}: ${f.summary}`),
            [],
            `expected no findings in:\n${c.code}`,
          );
        });
      });
    });
    describe("invalid", () => {
      cases.invalid.forEach((c, i) => {
        it(c.name ?? `invalid #${i + 1}`, () => {
          const found = runRule(rule, c)
            .filter((f) => f.node.getSourceFile().fileName === MAIN)
            .sort((a, b) => lineOf(a) - lineOf(b));
          assert.deepEqual(
            found.map(lineOf),
            c.findings.map((e) => e.line),
            `finding lines differ; got:\n${found.map((f) => `${lineOf(f)}: ${f.summary}`).join("\n")}\nin:\n${c.code}`,
          );
          c.findings.forEach((e, k) => {
            const f = found[k]!;
            if (e.summary) assert.match(f.summary, e.summary);
            if (e.fix) assert.match(f.fix, e.fix);
          });
        });
      });
    });
  });
}
