/**
 * What one instrumented library is to the load hooks: its package name, the exports an ESM
 * import sees replaced, and the function that instruments its exports.
 */

/** How the library was loaded: `require()` (its CommonJS exports) or `import` (a copy of its namespace). */
export type LoadedBy = "require" | "import";

/** One library instrumented at load. */
export interface Instrumentation {
  /** The package name as the user writes it in `require()` / `import`. */
  readonly module: string;
  /** The named exports an `import` of it sees replaced (besides `default`). */
  readonly esmExports: readonly string[];
  /** Whether its ESM entry has a default export. */
  readonly esmDefault: boolean;
  /**
   * Replaces the members of `exports` that are instrumented, in place. For `require` it is the
   * module's own exports object; for `import` a mutable copy of the namespace, whose `default`
   * (when it is the CommonJS exports) is patched in place too, so both module systems share one
   * instrumented class. Must be idempotent: a library loaded twice is instrumented once.
   * Returns a replacement when `require()` must hand out another value (a package whose
   * exports are a function, as knex's are), else undefined.
   */
  patch(exports: Record<string, unknown>, by: LoadedBy): unknown;
}

/** Where an instrumentation keeps its stand-ins: one per original, and the set of them. */
export interface StandIns {
  readonly standIns: WeakMap<object, object>;
  readonly isStandIn: WeakSet<object>;
}

/**
 * The one stand-in (a Proxy with `handler`) for `original`: made once, so a library loaded by both
 * `require` and `import` hands out the same object, and recorded as a stand-in, so it is never
 * wrapped again.
 */
export function standInFor<T extends object>(registry: StandIns, original: T, handler: ProxyHandler<T>): T {
  const known = registry.standIns.get(original);
  if (known !== undefined) return known as T;
  const proxy = new Proxy(original, handler);
  registry.standIns.set(original, proxy);
  registry.isStandIn.add(proxy);
  return proxy;
}

/**
 * Calls `patchHolder` on `exports` and, for an `import`, on its `default` too when that is the
 * package's CommonJS object (an object or a function): both module systems then share one
 * instrumented class.
 */
export function patchExportsAndDefault(exports: Record<string, unknown>, by: LoadedBy, patchHolder: (holder: Record<string, unknown>) => void): void {
  patchHolder(exports);
  const inner = by === "import" ? exports.default : undefined;
  if (inner !== null && inner !== exports && (typeof inner === "object" || typeof inner === "function")) patchHolder(inner as Record<string, unknown>);
}
