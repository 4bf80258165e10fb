/**
 * Installs the await-graph transform for modules loaded from now on: ES modules through
 * loader hooks on Node's loader thread, CommonJS modules through `Module.prototype._compile`
 * (which also sees what tsx compiled from TypeScript), and turns the graph on.
 */
import Module, { register } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { installTransformRuntime, startAwaitGraph, stopAwaitGraph } from "../core/await-graph.js";
import { processWide } from "../core/process-wide.js";
import { moduleFileOf, packageRootOf } from "../core/site.js";
import { isUserFile, transformAwaits } from "./await-transform.js";

function ownFile(): string {
  return moduleFileOf(ownFile);
}

const installed = processWide("awaitTransform", () => ({ esm: false, cjs: false }));

type Compile = (this: unknown, content: string, filename: string) => unknown;

/**
 * Compiles the program's own modules loaded from now on so the await graph knows which
 * activation awaits what, and turns the graph on (unless `start: false`: then it records once
 * startAwaitGraph() is called). Returns the function that turns the graph off (the transform
 * stays: compiled code then records nothing).
 *
 * @example
 * ```ts
 * // what `--import asyncdoctor/register` does before the program's first module loads
 * installAwaitTransform();
 * ```
 */
export function installAwaitTransform(options: { start?: boolean } = {}): () => void {
  installTransformRuntime();
  const stop = options.start === false ? stopAwaitGraph : startAwaitGraph();
  const here = ownFile();
  const root = packageRootOf(here);
  if (!installed.esm && typeof register === "function") {
    const hooks = join(dirname(here), here.endsWith(".ts") ? "await-loader-hooks.ts" : "await-loader-hooks.js");
    try {
      register(pathToFileURL(hooks).href, { data: { ownRoot: root } });
      installed.esm = true;
    } catch {
      // no loader hooks (an old Node, or a loader thread that cannot load TypeScript): CommonJS only
    }
  }
  if (!installed.cjs) {
    const proto = (Module as unknown as { prototype: { _compile: Compile } }).prototype;
    const original = proto._compile;
    proto._compile = function (this: unknown, content: string, filename: string) {
      if (typeof content === "string" && isUserFile(filename, root) && !content.includes("__asyncdoctor$.file(")) {
        const out = transformAwaits({ source: content, file: filename, format: "commonjs" });
        if (out !== undefined) return original.call(this, out, filename);
      }
      return original.call(this, content, filename);
    };
    installed.cjs = true;
  }
  return stop;
}
