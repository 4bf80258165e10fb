/**
 * The program a type checker belongs to. An analysis handed only a checker (the rules' shared
 * walks) cannot list the program's files through it; whoever made both registers them here,
 * and an analysis that finds none falls back to what it can do without the list.
 */
import type ts from "typescript";

const programs = new WeakMap<ts.TypeChecker, ts.Program>();

/**
 * Records that `checker` is `program`'s.
 *
 * @example
 * ```ts
 * registerProgram(program, program.getTypeChecker());
 * ```
 */
export function registerProgram(program: ts.Program, checker: ts.TypeChecker): void {
  programs.set(checker, program);
}

/** The program `checker` was registered with, if any. */
export function programOf(checker: ts.TypeChecker): ts.Program | undefined {
  return programs.get(checker);
}
