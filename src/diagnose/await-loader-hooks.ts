/**
 * Module loader hooks (registered with `module.register`, run on Node's loader thread) that
 * compile the program's own ES modules with the await-graph transform. CommonJS modules are
 * compiled on the main thread instead (await-loader.ts), so a module is never compiled twice.
 */
import { fileURLToPath } from "node:url";
import { isUserFile, transformAwaits } from "./await-transform.js";

let ownRoot = "\0";

/** Receives the asyncdoctor package root, whose own files are never compiled. */
export function initialize(data: { ownRoot?: string } | undefined): void {
  if (typeof data?.ownRoot === "string") ownRoot = data.ownRoot;
}

interface LoadResult {
  format?: string | null;
  source?: string | ArrayBuffer | Uint8Array | null;
  shortCircuit?: boolean;
}

/** The `load` hook: the next loader's result (tsx's JavaScript, for TypeScript), transformed. */
export async function load(url: string, context: object, nextLoad: (url: string, context: object) => Promise<LoadResult>): Promise<LoadResult> {
  const r = await nextLoad(url, context);
  if (r.format !== "module" || r.source == null || !url.startsWith("file:")) return r;
  const file = fileURLToPath(url);
  if (!isUserFile(file, ownRoot)) return r;
  const source = typeof r.source === "string" ? r.source : Buffer.from(r.source as Uint8Array).toString("utf8");
  const out = transformAwaits({ source, file, format: "module" });
  return out === undefined ? r : { ...r, source: out };
}
