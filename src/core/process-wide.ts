/**
 * State shared by every copy of asyncdoctor loaded in one process. A program can load the
 * package twice — the ESM build through `--import asyncdoctor/register` or `import`, and the
 * CommonJS build through `require()` — and both copies must share one task identity, one
 * registry and one configuration, or the exit report misses what the other copy tracks.
 */
const KEY = Symbol.for("asyncdoctor.process-wide.v1");

type Bag = Record<string, unknown>;

/**
 * The process-wide value named `name`, created by the first copy that asks for it.
 *
 * @example
 * ```ts
 * const ids = processWide("taskIds", () => ({ next: 1 }));
 * ```
 */
export function processWide<T>(name: string, create: () => T): T {
  const g = globalThis as { [KEY]?: Bag };
  const bag: Bag = (g[KEY] ??= Object.create(null) as Bag);
  if (!(name in bag)) bag[name] = create();
  return bag[name] as T;
}
