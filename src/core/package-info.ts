/**
 * This package's own name and version, read from its package.json, found from where this file
 * is (dist/esm, dist/cjs or the sources). Not from the working directory or `process.argv[1]`:
 * under `npx` those lead to the user's project, or to node_modules/.bin.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { captureFrames, frameFileName } from "./site.js";

/** The name and version of the running asyncdoctor. */
export interface PackageInfo {
  readonly name: string;
  readonly version: string;
}

let cached: PackageInfo | undefined;

function thisFile(): string | undefined {
  // the first frame above thisFile() is packageInfo(), in this very file
  const [frame] = captureFrames(thisFile, 1);
  return frame ? frameFileName(frame) : undefined;
}

/**
 * The running asyncdoctor's package.json `name` and `version`.
 *
 * @example
 * ```ts
 * console.log(`asyncdoctor ${packageInfo().version}`);
 * ```
 */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  const file = thisFile();
  let dir = file ? dirname(file) : undefined;
  while (dir !== undefined) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown; version?: unknown };
      // dist/cjs has a package.json of its own that only sets the module type: keep going up
      if (pkg.name === "asyncdoctor" && typeof pkg.version === "string") return (cached = { name: pkg.name, version: pkg.version });
    } catch {
      // no package.json in this directory
    }
    const up = dirname(dir);
    dir = up === dir ? undefined : up;
  }
  throw new Error(`asyncdoctor: cannot find its own package.json above ${file ?? "<unknown file>"}`);
}
