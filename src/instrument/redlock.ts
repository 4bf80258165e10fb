/**
 * redlock, instrumented at load (debug mode): each `acquire(resources, duration)` is a lock on
 * each resource key, named by the key (`"lock:accounts"`), held by the async call that asked for
 * it until `release()` or until its time to live runs out (an `extend()` keeps it). Nothing is
 * put in front of redlock: it keeps its own retries, quorum and errors. What is watched is the
 * knot a hold and a retrying acquire can make in one process: each holder awaiting (a fact of the
 * await graph) an acquire of what another holder has, round to the first, as two jobs that take
 * `lock:accounts` and `lock:audit` in opposite orders do (node-redlock#305).
 *
 * Such a knot is reported as `deadlock-cycle` (a holder awaiting its own resource again:
 * `deadlock-reentrant`), **observed**: a redlock hold is a bare one (any code may release it)
 * and every one ends by itself when its time to live runs out, so it is never thrown into the
 * program; until then no one in it moves.
 */
import { performance } from "node:perf_hooks";
import { awaitsThrough, currentActivation } from "../core/await-graph.js";
import type { Activation } from "../core/await-graph.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Diagnosis, Step, Subject } from "../core/diagnosis.js";
import { processWide } from "../core/process-wide.js";
import { captureSite, relativeFile } from "../core/site.js";
import type { Site } from "../core/site.js";
import { currentTask } from "../core/task.js";
import type { TaskRecord } from "../core/task.js";
import { taskLabel } from "../sync/names.js";
import { isInstrumenting } from "./hooks.js";
import type { Instrumentation } from "./library.js";

const MODULE = "redlock";
type Fn = (this: unknown, ...args: unknown[]) => unknown;

/** What redlock's Lock has that this needs: its resources and when it expires (0 once released). */
interface LockLike {
  readonly resources: readonly string[];
  readonly expiration: number;
}

/** An acquire that has succeeded and is not released or expired. */
interface Hold {
  lock: LockLike;
  readonly resources: readonly string[];
  readonly activation: Activation | undefined;
  readonly task: TaskRecord | undefined;
  readonly site: Site | undefined;
  readonly since: number;
  readonly ttlMs: number;
}

/** An acquire still retrying. */
interface Request {
  readonly resources: readonly string[];
  readonly activation: Activation | undefined;
  readonly task: TaskRecord | undefined;
  readonly site: Site | undefined;
  readonly since: number;
  /** The promise handed to the caller: what a holder's await graph reaches when it awaits this. */
  promise: Promise<unknown> | undefined;
  reported: boolean;
}

const state = processWide("instrumentRedlock", () => ({
  patched: new WeakSet<object>(),
  holds: new Set<Hold>(),
  requests: new Set<Request>(),
  checkQueued: false,
}));

const alive = (h: Hold): boolean => typeof h.lock.expiration === "number" && h.lock.expiration > Date.now();

/** One hop of a knot: `request` waits for `resource`, which `hold` has; `hold`'s holder awaits the next request. */
interface Hop {
  readonly request: Request;
  readonly resource: string;
  readonly hold: Hold;
}

/** The holds a request waits for: alive, by another acquire, on one of its resources. */
function blockers(r: Request): { resource: string; hold: Hold }[] {
  const out: { resource: string; hold: Hold }[] = [];
  for (const h of state.holds) {
    if (!alive(h)) {
      state.holds.delete(h);
      continue;
    }
    for (const resource of r.resources) if (h.resources.includes(resource)) out.push({ resource, hold: h });
  }
  return out;
}

/** The pending requests the holder of `h` awaits now (the await graph), if it is known. */
function awaitedBy(h: Hold): Request[] {
  const promise = h.activation?.promise;
  if (promise === undefined) return [];
  const out: Request[] = [];
  for (const r of state.requests) if (r.promise !== undefined && awaitsThrough(promise, r.promise)) out.push(r);
  return out;
}

/** A path start → … → start through holds whose holders await the next request, or undefined. */
function knotFrom(start: Request): Hop[] | undefined {
  const seen = new Set<Request>([start]);
  const walk = (r: Request, path: Hop[]): Hop[] | undefined => {
    if (path.length > 16) return undefined;
    for (const { resource, hold } of blockers(r)) {
      for (const next of awaitedBy(hold)) {
        const hop: Hop = { request: r, resource, hold };
        if (next === start) return [...path, hop];
        if (seen.has(next)) continue;
        seen.add(next);
        const found = walk(next, [...path, hop]);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return walk(start, []);
}

const lockText = (resource: string) => `redlock lock "${resource}"`;
const partyName = (p: { task: TaskRecord | undefined; site: Site | undefined; activation: Activation | undefined }) =>
  taskLabel(p.task, { site: p.site, activation: p.activation });
/** The call itself, without a line ("syncAccounts()"), for a sentence that gives the lines. */
const callName = (p: { task: TaskRecord | undefined; site: Site | undefined; activation: Activation | undefined }) => {
  const name = p.activation?.link().name;
  if (p.task !== undefined || name === undefined || name === "<unknown>") return `"${partyName(p)}"`;
  return name === "the module" ? "the main module" : name === "<anonymous>" ? "an async callback" : `${name}()`;
};
const at = (site: Site | undefined) => (site ? ` at ${relativeFile(site.file)}:${site.line}` : "");

/** The Diagnosis of a knot, in forward order from its oldest request. */
export function redlockKnotDiagnosis(hops: readonly Hop[]): Diagnosis {
  const first = hops.reduce((a, b, i) => (b.request.since < hops[a]!.request.since ? i : a), 0);
  const path = [...hops.slice(first), ...hops.slice(0, first)];
  const reentrant = path.length === 1;
  const subjects: Subject[] = [];
  const steps: Step[] = [];
  const ttl = Math.max(...path.map((h) => h.hold.ttlMs));
  for (const hop of path) {
    const waiter = partyName(hop.request);
    const holder = partyName(hop.hold);
    subjects.push({
      kind: "task",
      name: waiter,
      role: `waits for ${lockText(hop.resource)} here`,
      site: hop.request.site,
      detail: `for ${Math.round(performance.now() - hop.request.since)} ms`,
    });
    subjects.push({
      kind: "task",
      name: holder,
      role: `holds ${lockText(hop.resource)}, acquired here`,
      site: hop.hold.site,
      detail: `time to live ${hop.hold.ttlMs} ms`,
    });
    steps.push({ text: `${callName(hop.request)} waits for ${lockText(hop.resource)}`, site: hop.request.site });
    steps.push({ text: `${lockText(hop.resource)} is held by ${callName(hop.hold)}, which awaits the next acquire`, site: hop.hold.site });
  }
  const resources = [...new Set(path.map((h) => h.resource))];
  for (const r of resources) subjects.push({ kind: "lock", name: r, role: "redlock lock" });
  const chain = path
    .map((h) => `${callName(h.request)} waits${at(h.request.site)} for "${h.resource}", held by ${callName(h.hold)} (acquired${at(h.hold.site)})`)
    .join("; ");
  const until = `nothing in it moves until a lock's time to live (${ttl} ms) runs out`;
  const one = path[0]!;
  return createDiagnosis({
    rule: reentrant ? "deadlock-reentrant" : "deadlock-cycle",
    certainty: "observed",
    summary: reentrant
      ? `${callName(one.hold)} holds ${lockText(one.resource)} (acquired${at(one.hold.site)}) and awaits another acquire of it${at(one.request.site)}: it waits for itself; ${until}`
      : `wait-for cycle on redlock locks ${resources.map((r) => `"${r}"`).join(" and ")}: ${chain}; each awaits the other's acquire: ${until}`,
    subjects,
    steps,
    site: one.request.site,
    fix: reentrant
      ? `do not acquire "${one.resource}" again while holding it: pass the lock down, or extend() the one you hold`
      : `take the resources in one order everywhere: acquire them together in one sorted array (redlock.acquire([${resources
          .slice()
          .sort()
          .map((r) => JSON.stringify(r))
          .join(", ")}], …) locks them as one), or release one before taking the other`,
    data: { length: path.length, ttlMs: ttl },
  });
}

/** Looks for knots closed since the last look; each knot is reported once. */
function check(): void {
  state.checkQueued = false;
  for (const r of [...state.requests]) {
    if (r.reported) continue;
    const hops = knotFrom(r);
    if (hops === undefined) continue;
    for (const h of hops) h.request.reported = true;
    report(redlockKnotDiagnosis(hops));
  }
}

/** After the caller's await edge is made (the await follows the call): look again. */
function checkSoon(): void {
  if (state.checkQueued) return;
  state.checkQueued = true;
  setTimeout(check, 0).unref();
}

function patchClass(Redlock: unknown): void {
  if (typeof Redlock !== "function") return;
  const proto = (Redlock as { prototype?: Record<string, unknown> }).prototype;
  if (proto === undefined || state.patched.has(proto)) return;
  const acquire = proto.acquire as Fn | undefined;
  const release = proto.release as Fn | undefined;
  const extend = proto.extend as Fn | undefined;
  if (typeof acquire !== "function" || typeof release !== "function" || typeof extend !== "function") return;
  state.patched.add(proto);
  const holdOf = (lock: unknown): Hold | undefined => {
    for (const h of state.holds) if (h.lock === lock) return h;
    return undefined;
  };
  Object.defineProperty(proto, "acquire", {
    configurable: true,
    writable: true,
    value: function acquireWatched(this: unknown, resources: unknown, duration: unknown, settings: unknown): unknown {
      const p = acquire.call(this, resources, duration, settings);
      if (!isInstrumenting(MODULE) || !Array.isArray(resources) || !resources.every((r) => typeof r === "string") || !(p instanceof Promise)) return p;
      const request: Request = {
        resources: [...resources],
        activation: currentActivation(),
        task: currentTask(),
        site: captureSite(acquireWatched),
        since: performance.now(),
        promise: undefined,
        reported: false,
      };
      state.requests.add(request);
      // the caller awaits this one (its rejection, unhandled, is the caller's as before)
      const out = p.then(
        (lock: unknown) => {
          state.requests.delete(request);
          if (lock !== null && typeof lock === "object") {
            state.holds.add({
              lock: lock as LockLike,
              resources: request.resources,
              activation: request.activation,
              task: request.task,
              site: request.site,
              since: performance.now(),
              ttlMs: typeof duration === "number" ? duration : 0,
            });
            checkSoon();
          }
          return lock;
        },
        (err: unknown) => {
          state.requests.delete(request);
          throw err;
        },
      );
      request.promise = out;
      checkSoon();
      return out;
    },
  });
  Object.defineProperty(proto, "release", {
    configurable: true,
    writable: true,
    value: function releaseWatched(this: unknown, lock: unknown, settings: unknown): unknown {
      const h = holdOf(lock);
      if (h !== undefined) state.holds.delete(h);
      return release.call(this, lock, settings);
    },
  });
  Object.defineProperty(proto, "extend", {
    configurable: true,
    writable: true,
    value: function extendWatched(this: unknown, existing: unknown, duration: unknown, settings: unknown): unknown {
      const p = extend.call(this, existing, duration, settings);
      if (!(p instanceof Promise)) return p;
      // the extended lock is a new object; the hold goes on with it (a rejection stays the caller's)
      return p.then((next: unknown) => {
        const h = holdOf(existing);
        if (h !== undefined && next !== null && typeof next === "object") h.lock = next as LockLike;
        return next;
      });
    },
  });
}

/** redlock's instrumentation: its Redlock class (the default export), in either build. */
export const redlockInstrumentation: Instrumentation = {
  module: MODULE,
  esmExports: [],
  esmDefault: true,
  patch(exports: Record<string, unknown>): undefined {
    patchClass(exports.default);
    const inner = exports.default as { default?: unknown } | undefined;
    // an import of the CommonJS build: its default is the exports object
    if (inner !== null && typeof inner === "object") patchClass(inner.default);
    return undefined;
  },
};
