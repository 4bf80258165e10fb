/** Finds nodes in a rule-test program's main.ts for the analysis tests. */
import ts from "typescript";
import { buildProgram, type CaseFiles } from "../rule-tester.js";
import { registerProgram } from "../../../src/check/analysis/program-of.js";

export interface Loaded {
  readonly checker: ts.TypeChecker;
  readonly main: ts.SourceFile;
  readonly sourceFiles: readonly ts.SourceFile[];
}

/**
 * Builds the program; registered with its checker as the runner does it (so the analyses list
 * its files and skip what cannot matter) unless `registered` is false (as a caller that only
 * has a checker, such as the ESLint adapter).
 */
export function load(code: string, files: CaseFiles = {}, registered = true): Loaded {
  const program = buildProgram(code, files);
  const main = program.getSourceFile("/virtual/main.ts")!;
  const sourceFiles = program.getSourceFiles().filter((f) => f.fileName.startsWith("/virtual") && !f.fileName.includes("/node_modules/"));
  const checker = program.getTypeChecker();
  if (registered) registerProgram(program, checker);
  return { checker, main, sourceFiles };
}

/** Every call expression whose source text starts with `prefix`, in source order. */
export function callsStarting(sf: ts.SourceFile, prefix: string): ts.CallExpression[] {
  const out: ts.CallExpression[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && n.getText(sf).startsWith(prefix)) out.push(n);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}
