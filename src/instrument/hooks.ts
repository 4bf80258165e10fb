/**
 * Instrumentation at load, for both module systems, with Node's own hooks:
 * - `require()`: `Module._load` is wrapped (what require-in-the-middle does), so a package's
 *   CommonJS exports are patched in place the first time they are handed out;
 * - `import`: customization hooks registered with `module.register` (loader.ts) put a wrapper
 *   module in front of the package, which calls back into this thread.
 * Both feed one process-wide dispatcher, so the ESM and CommonJS builds of asyncdoctor share it.
 */
import { existsSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { captureFrames, frameFileName } from "../core/site.js";
import { processWide } from "../core/process-wide.js";
import type { Instrumentation, LoadedBy } from "./library.js";
import type { LoaderData } from "./loader.js";

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
type Dispatcher = (name: string, namespace: Record<string, unknown>, format: string) => Record<string, unknown>;

interface HookState {
  readonly libraries: Map<string, Instrumentation>;
  /** The packages instrumented now (the loader knows every library; this says which are on). */
  readonly enabled: Set<string>;
  active: boolean;
  originalLoad: Load | undefined;
  ourLoad: Load | undefined;
  /** Sent to the loader once: Node 20 cannot unregister hooks, so later installs reuse them. */
  loaderRegistered: boolean;
  loaderError: string | undefined;
}

const state = processWide<HookState>("instrumentHooks", () => ({
  libraries: new Map(),
  enabled: new Set(),
  active: false,
  originalLoad: undefined,
  ourLoad: undefined,
  loaderRegistered: false,
  loaderError: undefined,
}));

const DISPATCH = Symbol.for("asyncdoctor.instrument.v1");

function patchSafely(lib: Instrumentation, exports: Record<string, unknown>, by: LoadedBy): unknown {
  try {
    return lib.patch(exports, by);
  } catch (err) {
    // a library version shaped unlike the one we know stays as it is: it must still work
    process.emitWarning(`asyncdoctor: could not instrument ${lib.module}: ${err instanceof Error ? err.message : String(err)}`, {
      code: "ASYNCDOCTOR_INSTRUMENT",
    });
  }
}

const dispatch: Dispatcher = (name, namespace) => {
  const lib = state.libraries.get(name);
  if (!state.active || lib === undefined || !state.enabled.has(name)) return namespace;
  const copy: Record<string, unknown> = { ...namespace };
  patchSafely(lib, copy, "import");
  return copy;
};

/** Where this file is, in the ESM build, the CommonJS build or the TypeScript sources. */
function ownFile(): string | undefined {
  for (const f of captureFrames(ownFile, 1)) return frameFileName(f);
  return undefined;
}

/** The loader module's URL: always an ESM file (the CommonJS build uses the ESM build's). */
function loaderUrl(): string | undefined {
  const here = ownFile();
  if (here === undefined) return undefined;
  const dir = dirname(here);
  const candidates = [join(dir, "loader.js"), join(dir, "loader.ts")];
  if (/[\\/]dist[\\/]cjs[\\/]/.test(dir)) candidates.unshift(dir.replace(/([\\/]dist[\\/])cjs([\\/])/, "$1esm$2") + "/loader.js");
  const found = candidates.find((c) => existsSync(c));
  return found === undefined ? undefined : pathToFileURL(found).href;
}

function registerLoader(): void {
  if (state.loaderRegistered) return;
  state.loaderRegistered = true;
  const url = loaderUrl();
  const register = (Module as unknown as { register?: (url: string, options: { data: LoaderData }) => void }).register;
  if (url === undefined || typeof register !== "function") {
    state.loaderError = url === undefined ? "the loader module was not found" : "module.register is missing (Node.js 20.6 or later is needed)";
    return;
  }
  const targets: Record<string, { exports: readonly string[]; default: boolean }> = {};
  for (const lib of state.libraries.values()) targets[lib.module] = { exports: lib.esmExports, default: lib.esmDefault };
  register(url, { data: { targets } });
}

/** Patches what `require()` already loaded (a library loaded before instrumentation was on). */
function patchLoaded(): void {
  const cache = (Module as unknown as { _cache?: Record<string, { exports?: unknown } | undefined> })._cache;
  if (!cache) return;
  const req = createRequire(join(process.cwd(), "noop.js"));
  for (const lib of state.libraries.values()) {
    if (!state.enabled.has(lib.module)) continue;
    let file: string;
    try {
      file = req.resolve(lib.module);
    } catch {
      continue;
    }
    const entry = cache[file];
    const exports = entry?.exports;
    if (entry !== undefined && (typeof exports === "object" || typeof exports === "function") && exports !== null) {
      const replacement = patchSafely(lib, exports as Record<string, unknown>, "require");
      if (replacement !== undefined) entry.exports = replacement;
    }
  }
}

/**
 * Turns the load hooks on for `libraries`. Returns a function that turns them off: what is
 * already instrumented stays so (its objects are the user's), but nothing new is.
 */
export function installLoadHooks(libraries: readonly Instrumentation[], enabled: ReadonlySet<string>): () => void {
  for (const lib of libraries) state.libraries.set(lib.module, lib);
  state.enabled.clear();
  for (const name of enabled) state.enabled.add(name);
  state.active = true;
  (globalThis as { [DISPATCH]?: Dispatcher })[DISPATCH] = dispatch;
  if (state.ourLoad === undefined) {
    const mod = Module as unknown as { _load: Load };
    const original = mod._load;
    const ours: Load = function (this: unknown, request, parent, isMain) {
      const exports = original.call(this, request, parent, isMain);
      if (state.active && typeof request === "string" && state.enabled.has(request)) {
        const lib = state.libraries.get(request);
        if (lib !== undefined && (typeof exports === "object" || typeof exports === "function") && exports !== null) {
          return patchSafely(lib, exports as Record<string, unknown>, "require") ?? exports;
        }
      }
      return exports;
    };
    state.originalLoad = original;
    state.ourLoad = ours;
    mod._load = ours;
  }
  registerLoader();
  patchLoaded();
  return () => {
    state.active = false;
    const mod = Module as unknown as { _load: Load };
    // restore only when nobody wrapped it after us (another tool's wrapper would be lost)
    if (mod._load === state.ourLoad && state.originalLoad !== undefined) {
      mod._load = state.originalLoad;
      state.ourLoad = undefined;
      state.originalLoad = undefined;
    }
  };
}

/** True while `module` is instrumented: what an instrumented object asks before doing anything of its own. */
export function isInstrumenting(module: string): boolean {
  return state.active && state.enabled.has(module);
}

/** Why `import` is not instrumented, when it is not (the loader could not be registered). */
export function loaderProblem(): string | undefined {
  return state.loaderError;
}
