/**
 * The program's own line for something created deep inside a library or Node: the first frame
 * outside asyncdoctor, Node and `node_modules` (else the first outside asyncdoctor and Node).
 */
import { sep } from "node:path";
import { captureStack } from "../core/site.js";
import type { Site } from "../core/site.js";

const NODE_MODULES = `${sep}node_modules${sep}`;

/** The user's frame above `above`; costs a stack walk (debug mode only). */
export function captureUserSite(above: Function = captureUserSite): Site | undefined {
  const stack = captureStack(above, 40);
  return stack.find((s) => !s.file.includes(NODE_MODULES)) ?? stack[0];
}
