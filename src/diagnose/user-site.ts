/**
 * The program's own line for something created deep inside a library or Node: the first frame
 * outside asyncdoctor, Node and `node_modules` (else the first outside asyncdoctor and Node).
 */
import { sep } from "node:path";
import { captureStack, frameFileName, frameToSite, isInternalFile } from "../core/site.js";
import type { Site } from "../core/site.js";

const NODE_MODULES = `${sep}node_modules${sep}`;

/** True when `file` is the program's own code: not asyncdoctor, not Node, not a package. */
export function isUserFile(file: string): boolean {
  return !isInternalFile(file) && !file.includes(NODE_MODULES) && !file.includes("/node_modules/");
}

/**
 * V8's stack above `above`, captured now without being formatted: `Error.captureStackTrace`
 * records the frames, and V8 formats them only when `stack` is first read (with the
 * `Error.prepareStackTrace` in place then). Reading it later as CallSites costs what a report
 * costs; a capture nobody reads costs about two thirds of one formatted at once.
 */
export class LazyFrames {
  readonly #holder: { stack?: unknown } = {};

  constructor(above: Function, depth: number) {
    const prev = Error.stackTraceLimit;
    Error.stackTraceLimit = depth;
    Error.captureStackTrace(this.#holder, above);
    Error.stackTraceLimit = prev;
  }

  /** The frames, innermost first (empty if the stack was already read as text). */
  read(): NodeJS.CallSite[] {
    const prev = Error.prepareStackTrace;
    Error.prepareStackTrace = (_e, frames) => frames;
    try {
      const s = this.#holder.stack;
      return Array.isArray(s) ? (s as NodeJS.CallSite[]) : [];
    } finally {
      Error.prepareStackTrace = prev;
    }
  }
}

/** The user's frame above `above`; costs a stack walk (debug mode only). */
export function captureUserSite(above: Function = captureUserSite): Site | undefined {
  const stack = captureStack(above, 40);
  return stack.find((s) => !s.file.includes(NODE_MODULES)) ?? stack[0];
}

/**
 * The user's frames of the stack above `above`, innermost first, captured now and resolved only
 * when read: V8's raw frames are cheap to take with a short limit, formatting and source maps
 * are not. An ORM call made in the user's code keeps one, and a report made later (from a
 * microtask, when the user's frames are gone) reads where the call was made and who called it.
 *
 * @example
 * ```ts
 * const frames = new UserFrames(findAll, 12); // in a wrapper of the library's findAll
 * // … later, in a report …
 * const [call, caller] = frames.sites;
 * ```
 */
export class UserFrames {
  #frames: LazyFrames | undefined;
  #sites: readonly Site[] | undefined;

  constructor(above: Function, depth = 12) {
    this.#frames = new LazyFrames(above, depth);
  }

  /**
   * The innermost run of the user's frames, innermost first (empty when none was on the
   * stack): from the first user frame up to the next frame that is not the user's. What lies
   * beyond (the library that called back into the user's code, and its callers, async frames
   * included) is another context.
   */
  get sites(): readonly Site[] {
    if (this.#sites === undefined) {
      const out: Site[] = [];
      for (const f of this.#frames?.read() ?? []) {
        const file = frameFileName(f);
        const s = file === undefined || !isUserFile(file) ? undefined : frameToSite(f);
        if (s !== undefined && isUserFile(s.file)) out.push(s);
        else if (out.length > 0) break;
      }
      this.#sites = out;
      this.#frames = undefined;
    }
    return this.#sites;
  }

  /** The innermost user frame, or undefined. */
  get site(): Site | undefined {
    return this.sites[0];
  }
}
