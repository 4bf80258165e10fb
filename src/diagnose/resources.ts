/**
 * Resource tracking: `track(resource)` remembers that something was opened, notices when it is
 * closed (by wrapping its close method on the instance), and reports it as a *proven*
 * `leaked-resource` when it is garbage-collected while still open. The bookkeeping holds no
 * strong reference to the resource, so tracking never keeps anything alive.
 */
import { performance } from "node:perf_hooks";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Diagnosis } from "../core/diagnosis.js";
import { registerSnapshotSection } from "../core/registry.js";
import type { ResourceSnapshot } from "../core/registry.js";
import { captureSiteMapped } from "../core/site.js";
import type { Site } from "../core/site.js";
import { currentTask } from "../core/task.js";
import { InvalidArgTypeError, validateObject, validateOptionalString } from "../core/validate.js";

/** How a tracked resource is closed: a method name, or a function given the resource. */
export type CloseHow<T> = string | symbol | ((resource: T) => unknown);

/** Options of {@link track}. */
export interface TrackOptions<T> {
  /** A name for reports; defaults to the constructor's name. */
  name?: string;
  /**
   * How to close it, when it has no `close`, `end`, `destroy` or `Symbol.asyncDispose` method:
   * a method name, or a function that closes it (used by `await using`).
   */
  close?: CloseHow<T>;
}

/** What {@link track} returns: the same object, now also usable with `await using`. */
export type Tracked<T> = T & AsyncDisposable;

/** The record of one tracked resource. It never references the resource itself. */
export interface ResourceEntry {
  readonly id: number;
  readonly name: string;
  readonly createdAt: number;
  readonly taskName: string | undefined;
  /** Set by whoever tracks creation context (the test helpers). */
  scope: unknown;
  closed: boolean;
  /** Resolved at once: V8's raw frames reference their receivers, which may be the resource. */
  readonly site: Site | undefined;
  /** Why it counts as open, when there is more to say than "never closed" (observed resources). */
  readonly why?: string | undefined;
}

/** The method names that count as closing a resource, in the order they are preferred. */
const CLOSERS: readonly (string | symbol)[] = [Symbol.asyncDispose, "close", "end", "destroy", Symbol.dispose];

const open = new Map<number, ResourceEntry>();
const entryOf = new WeakMap<object, ResourceEntry>();
let nextId = 1;

const listeners = new Set<(entry: ResourceEntry) => void>();

/** Lets the test helpers see each newly tracked resource (to attribute it to a test). */
export function onResourceTracked(listener: (entry: ResourceEntry) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// The held value is the entry, which holds no reference to the resource: GC is not prevented.
const finalizer = new FinalizationRegistry<ResourceEntry>((entry) => {
  if (entry.closed) return;
  open.delete(entry.id);
  report(leakedResourceDiagnosis(entry, "proven"));
});

/**
 * Tracks a resource that must be closed: a client, a session, a file handle, a stream. Closing
 * it (through any of `close`, `end`, `destroy`, `Symbol.asyncDispose`, or the `close` option)
 * marks it closed; if it is garbage-collected while still open, a *proven* `leaked-resource`
 * is reported with the line that created it. The same object is returned, usable with
 * `await using`.
 *
 * @example
 * ```ts
 * import { track } from "asyncdoctor";
 * await using session = track(new ClientSession(), { name: "github-session" });
 * await session.get("/user");
 * // closed at the end of the scope; forgetting `using` and dropping it is reported as a leak
 * ```
 */
export function track<T extends object>(resource: T, options: TrackOptions<T> = {}): Tracked<T> {
  if (resource === null || (typeof resource !== "object" && typeof resource !== "function")) {
    throw new InvalidArgTypeError("resource", "an object", resource);
  }
  validateObject(options, "options");
  validateOptionalString(options.name, "options.name");
  const how = options.close;
  if (how !== undefined && typeof how !== "string" && typeof how !== "symbol" && typeof how !== "function") {
    throw new InvalidArgTypeError("options.close", "a method name or a function", how);
  }
  if (typeof how === "string" || typeof how === "symbol") {
    if (typeof (resource as Record<string | symbol, unknown>)[how] !== "function") {
      throw new InvalidArgTypeError(`options.close`, `the name of a method of the resource`, how);
    }
  }
  const closers = CLOSERS.filter((k) => typeof (resource as Record<string | symbol, unknown>)[k] === "function");
  if (typeof how === "string" || typeof how === "symbol") closers.push(how);
  if (closers.length === 0 && typeof how !== "function") {
    throw new InvalidArgTypeError("resource", "an object with a close(), end(), destroy() or [Symbol.asyncDispose]() method (or pass options.close)", resource);
  }
  if (!Object.isExtensible(resource)) {
    throw new InvalidArgTypeError("resource", "an extensible object (its close method is observed)", resource);
  }
  const existing = entryOf.get(resource);
  if (existing) return resource as Tracked<T>;

  const entry: ResourceEntry = {
    id: nextId++,
    name: options.name ?? (resource.constructor?.name && resource.constructor.name !== "Object" ? resource.constructor.name : `resource#${nextId - 1}`),
    createdAt: performance.now(),
    taskName: currentTask()?.name,
    scope: undefined,
    closed: false,
    // a long-lived object: its creation site is worth a stack even in production
    site: captureSiteMapped(track),
  };
  const markClosed = () => {
    if (entry.closed) return;
    entry.closed = true;
    open.delete(entry.id);
    finalizer.unregister(entry);
  };
  const target = resource as Record<string | symbol, unknown>;
  for (const key of new Set(closers)) {
    const original = target[key] as (...args: unknown[]) => unknown;
    // `this`, not `resource`: the wrapper must not capture the resource, or it could never be collected
    Object.defineProperty(target, key, {
      configurable: true,
      writable: true,
      enumerable: false,
      value: function closeObserved(this: unknown, ...args: unknown[]): unknown {
        markClosed();
        return original.apply(this, args);
      },
    });
  }
  if (!closers.includes(Symbol.asyncDispose)) {
    const closeFn = typeof how === "function" ? how : undefined;
    const first = closers[0];
    Object.defineProperty(target, Symbol.asyncDispose, {
      configurable: true,
      writable: true,
      enumerable: false,
      value: async function disposeTracked(this: T): Promise<void> {
        markClosed();
        if (closeFn) await (closeFn as (r: T) => unknown)(this);
        else if (first !== undefined) await (this as Record<string | symbol, () => unknown>)[first]!();
      },
    });
  }
  open.set(entry.id, entry);
  entryOf.set(resource, entry);
  finalizer.register(resource, entry, entry);
  for (const l of listeners) l(entry);
  return resource as Tracked<T>;
}

/**
 * Marks a tracked resource closed when it was closed by a path asyncdoctor cannot observe
 * (an event, a callback of the library that owns it).
 *
 * @example
 * ```ts
 * socket.on("close", () => markClosed(socket));
 * ```
 */
export function markClosed(resource: object): void {
  if (resource === null || (typeof resource !== "object" && typeof resource !== "function")) {
    throw new InvalidArgTypeError("resource", "an object", resource);
  }
  const entry = entryOf.get(resource);
  if (!entry || entry.closed) return;
  entry.closed = true;
  open.delete(entry.id);
  finalizer.unregister(entry);
}

// Resources of Node's own kinds observed in debug mode with no track() call (node-resources.ts):
// their entries read their state from the live object, weakly held.
const observed = new Set<ResourceEntry>();

/** A fresh resource id (ids are shared by tracked and observed resources). */
export function nextResourceId(): number {
  return nextId++;
}

/**
 * Adds a resource observed without a track() call (a socket, an fs stream, a child process…):
 * its entry's `closed` reads the live object's state. The test helpers see it as they see a
 * tracked one.
 */
export function addObservedResource(entry: ResourceEntry): void {
  observed.add(entry);
  for (const l of listeners) l(entry);
}

/** The tracked resources still open, then the observed ones still open. */
export function openResources(): ResourceEntry[] {
  const out = [...open.values()];
  for (const e of observed) {
    if (e.closed) observed.delete(e);
    else out.push(e);
  }
  return out;
}

/** The site that created a resource entry. */
export function resourceSite(entry: ResourceEntry): Site | undefined {
  return entry.site;
}

/** One entry as it appears in the `resources` section of a snapshot. */
export function describeResource(entry: ResourceEntry, now = performance.now()): ResourceSnapshot {
  return { id: entry.id, name: entry.name, site: entry.site, ageMs: Math.round(now - entry.createdAt), taskName: entry.taskName };
}

registerSnapshotSection("resources", (): ResourceSnapshot[] => {
  const now = performance.now();
  return openResources().map((e) => describeResource(e, now));
});

/**
 * The leaked-resource Diagnosis: *proven* when it was collected unclosed, *observed* when it was
 * still open at exit or at the end of a test.
 */
export function leakedResourceDiagnosis(entry: ResourceEntry, certainty: "proven" | "observed", context?: string): Diagnosis {
  const site = entry.site;
  const age = Math.round(performance.now() - entry.createdAt);
  const when = certainty === "proven" ? "was garbage-collected without being closed" : `was never closed ${context ?? ""}`.trim();
  return createDiagnosis({
    rule: "leaked-resource",
    certainty,
    summary:
      `resource "${entry.name}" ${when}` +
      (entry.taskName ? ` (opened in task "${entry.taskName}")` : "") +
      (certainty === "observed" && entry.why ? `: ${entry.why}` : ""),
    subjects: [{ kind: "resource", name: entry.name, role: "opened here", site, detail: `open for ${age} ms` }],
    site,
    fix: `close "${entry.name}" on every path: \`await using x = track(…)\`, or close it in a finally block`,
    data: { ageMs: age },
  });
}
