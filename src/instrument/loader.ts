/**
 * The ESM side of instrumentation at load: module customization hooks (`module.register`),
 * which run off the main thread. An `import` of an instrumented package resolves to a small
 * wrapper module instead; the wrapper imports the real one, hands its namespace to the main
 * thread's instrumentation (a global function set by installInstrumentations) and re-exports
 * what comes back. Everything the wrapper does not replace is re-exported untouched.
 *
 * Node's own hooks are used rather than import-in-the-middle so that the runtime library keeps
 * no dependency beyond Node.js; only the few packages asyncdoctor knows are wrapped, so the
 * generic machinery of that package is not needed.
 */

/** What installInstrumentations sends: for each package, the exports its wrapper replaces. */
export interface LoaderData {
  readonly targets: Readonly<Record<string, { readonly exports: readonly string[]; readonly default: boolean }>>;
}

interface ResolveContext {
  readonly parentURL?: string | undefined;
  readonly conditions?: readonly string[];
  readonly importAttributes?: Readonly<Record<string, string>>;
}
interface ResolveResult {
  readonly url: string;
  readonly format?: string | null | undefined;
  readonly shortCircuit?: boolean;
  readonly importAttributes?: Readonly<Record<string, string>>;
}
interface LoadContext {
  readonly format?: string | null | undefined;
  readonly conditions?: readonly string[];
  readonly importAttributes?: Readonly<Record<string, string>>;
}
interface LoadResult {
  readonly format: string;
  readonly source?: string | ArrayBuffer | Uint8Array | null | undefined;
  readonly shortCircuit?: boolean;
}

/** The query parameter that marks a wrapper's URL (the rest of the URL is the real module's). */
export const WRAPPER_PARAM = "asyncdoctor-instrument";

let targets: LoaderData["targets"] = {};

/** Receives the packages to wrap. */
export function initialize(data: LoaderData | undefined): void {
  if (data?.targets) targets = data.targets;
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: (specifier: string, context: ResolveContext) => Promise<ResolveResult>,
): Promise<ResolveResult> {
  const resolved = await next(specifier, context);
  if (!Object.hasOwn(targets, specifier) || !resolved.url.startsWith("file:")) return resolved;
  const url = new URL(resolved.url);
  url.searchParams.set(WRAPPER_PARAM, specifier);
  // the real module's format travels in the URL: the wrapper itself is always ESM
  url.searchParams.set(`${WRAPPER_PARAM}-format`, resolved.format ?? "");
  return { url: url.href, format: "module", shortCircuit: true };
}

export async function load(url: string, context: LoadContext, next: (url: string, context: LoadContext) => Promise<LoadResult>): Promise<LoadResult> {
  if (!url.includes(WRAPPER_PARAM)) return next(url, context);
  const u = new URL(url);
  const name = u.searchParams.get(WRAPPER_PARAM);
  const target = name === null ? undefined : targets[name];
  if (name === null || target === undefined) return next(url, context);
  const format = u.searchParams.get(`${WRAPPER_PARAM}-format`) ?? "";
  u.searchParams.delete(WRAPPER_PARAM);
  u.searchParams.delete(`${WRAPPER_PARAM}-format`);
  return { format: "module", source: wrapperSource(name, u.href, format, target), shortCircuit: true };
}

/** The wrapper module of one package. */
export function wrapperSource(
  name: string,
  realUrl: string,
  format: string,
  target: { readonly exports: readonly string[]; readonly default: boolean },
): string {
  const real = JSON.stringify(realUrl);
  const lines = [
    `import * as real from ${real};`,
    `export * from ${real};`,
    `const instrument = globalThis[Symbol.for("asyncdoctor.instrument.v1")];`,
    `const out = typeof instrument === "function" ? instrument(${JSON.stringify(name)}, real, ${JSON.stringify(format)}) : real;`,
  ];
  // a local export shadows the same name from `export *`
  if (target.default || format === "commonjs") lines.push(`export default out.default;`);
  for (const e of target.exports) if (/^[A-Za-z_$][\w$]*$/.test(e) && e !== "default") lines.push(`export const ${e} = out[${JSON.stringify(e)}];`);
  return lines.join("\n") + "\n";
}
