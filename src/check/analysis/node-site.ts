/**
 * The Site of a node of checked source, for a finding's subjects and steps.
 */
import type ts from "typescript";
import type { Site } from "../../core/site.js";
import { enclosingFunction, functionName } from "./own-flow.js";

/** Where `node` starts: file, 1-based line and column, and the enclosing function's name. */
export function siteOf(node: ts.Node): Site {
  const sf = node.getSourceFile();
  const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  const fn = enclosingFunction(node);
  return { file: sf.fileName, line: line + 1, column: character + 1, functionName: fn ? functionName(fn) : undefined };
}

/** `file:line` of a node, short, for summaries: `main.ts:12`. */
export function shortSite(node: ts.Node): string {
  const s = siteOf(node);
  const base = s.file.slice(s.file.lastIndexOf("/") + 1);
  return `${base}:${s.line}`;
}
