/**
 * Which test created what. Each checked test runs in its own AsyncLocalStorage scope, so a
 * task, lock, timer or resource is attributed to the test whose code created it even when
 * tests run concurrently. Code that runs outside every scope (a test that was not wrapped)
 * falls into the open "window" between a beforeEach and its afterEach, when there is exactly one.
 */
import { AsyncLocalStorage, createHook } from "node:async_hooks";
import type { AsyncHook } from "node:async_hooks";
import diagnosticsChannel from "node:diagnostics_channel";
import { sep } from "node:path";
import { channelNames } from "../core/channels.js";
import { captureSiteMapped } from "../core/site.js";
import type { Site } from "../core/site.js";
import { TaskRecord } from "../core/task.js";
import { watchEmitters } from "../diagnose/emitter-watch.js";
import { NodeResourceEntry, observeNodeResources } from "../diagnose/node-resources.js";
import { setAwaitContext, trackPromises } from "../diagnose/promise-tracking.js";
import { onResourceTracked } from "../diagnose/resources.js";
import type { ResourceEntry } from "../diagnose/resources.js";

/** A timer a test started, until it fires (one-shot) or is cleared. */
export interface TimerEntry {
  readonly asyncId: number;
  readonly site: Site | undefined;
  readonly timer: WeakRef<object>;
  readonly repeat: boolean;
}

/** What one test created. */
export class LeakScope {
  readonly name: string;
  /** Each task with where it was spawned (captured here: production-mode tasks carry no site). */
  readonly tasks = new Map<TaskRecord, Site | undefined>();
  readonly resources = new Set<ResourceEntry>();
  readonly timers = new Map<number, TimerEntry>();
  /** Tasks that acquired a lock inside this scope (lock holders are matched by task id). */
  readonly lockTaskIds = new Set<number>();
  /** Bare acquires made outside every task and not released yet, by lock name. */
  readonly bareHolds = new Map<string, number>();
  closed = false;
  constructor(name: string) {
    this.name = name;
  }
}

const storage = new AsyncLocalStorage<LeakScope>();
const windows = new Set<LeakScope>();
const timerOwner = new Map<number, LeakScope>();
let hook: AsyncHook | undefined;
let users = 0;

/** The scope the caller runs in: its test's, or the single open window. */
export function currentScope(): LeakScope | undefined {
  const s = storage.getStore();
  if (s) return s.closed ? undefined : s;
  if (windows.size === 1) return windows.values().next().value;
  return undefined;
}

/** Runs `fn` in a fresh scope. */
export function runInScope<R>(scope: LeakScope, fn: () => R): R {
  return storage.run(scope, fn);
}

/** Opens a window for a test that is not wrapped (beforeEach). */
export function openWindow(scope: LeakScope): void {
  windows.add(scope);
}

/** Closes a window (afterEach). */
export function closeWindow(scope: LeakScope): void {
  windows.delete(scope);
}

function isUserSite(site: Site | undefined): boolean {
  return site !== undefined && !site.file.includes(`${sep}node_modules${sep}`);
}

const onSpawn = (message: unknown) => {
  const task = (message as { task?: unknown }).task;
  if (!(task instanceof TaskRecord)) return;
  const scope = currentScope();
  if (scope) scope.tasks.set(task, task.site ?? captureSiteMapped(onSpawn));
};

// the scopes that made each lock's bare (task-less) acquires still held, oldest first
const bareOwners = new Map<string, LeakScope[]>();

function lockName(message: unknown): string | undefined {
  const name = (message as { lock?: { name?: unknown } } | null)?.lock?.name;
  return typeof name === "string" ? name : undefined;
}

const onLock = (message: unknown) => {
  // sync/ publishes the acquiring task when it knows it
  const task = (message as { task?: unknown } | null)?.task;
  const scope = currentScope();
  if (!scope) return;
  if (task instanceof TaskRecord) {
    scope.lockTaskIds.add(task.id);
    return;
  }
  // a bare acquire() outside every task: the test that made it holds it until a task-less release
  const name = lockName(message);
  if (name === undefined) return;
  scope.bareHolds.set(name, (scope.bareHolds.get(name) ?? 0) + 1);
  const owners = bareOwners.get(name) ?? [];
  owners.push(scope);
  bareOwners.set(name, owners);
};

const onRelease = (message: unknown) => {
  const task = (message as { task?: unknown } | null)?.task;
  if (task instanceof TaskRecord) return;
  const name = lockName(message);
  const owners = name === undefined ? undefined : bareOwners.get(name);
  if (!owners || owners.length === 0 || name === undefined) return;
  // the releasing code's own test if it holds one, else the oldest holder (releases carry no identity)
  const mine = currentScope();
  const i = mine ? owners.indexOf(mine) : -1;
  const [owner] = owners.splice(i >= 0 ? i : 0, 1);
  if (owner) owner.bareHolds.set(name, Math.max(0, (owner.bareHolds.get(name) ?? 0) - 1));
  if (owners.length === 0) bareOwners.delete(name);
};

let stopResources: (() => void) | undefined;

/** Starts attributing (reference-counted: several setups may share it). Returns a stop function. */
export function startAttribution(): () => void {
  users++;
  if (users === 1) {
    diagnosticsChannel.subscribe(channelNames.taskSpawn, onSpawn);
    diagnosticsChannel.subscribe(channelNames.lockAcquire, onLock);
    diagnosticsChannel.subscribe(channelNames.lockRelease, onRelease);
    // the test helpers see what debug mode sees: Node's own resources, and the awaits a timed-out test is stuck in
    // (left on when attribution stops: debug mode may have started them and relies on them)
    observeNodeResources();
    watchEmitters();
    trackPromises();
    setAwaitContext(currentScope);
    stopResources = onResourceTracked((entry) => {
      // timers have their own check (leaked-timer); a runner's or a library's own sockets and streams are not the test's
      if (entry instanceof NodeResourceEntry && (entry.kind === "interval" || !isUserSite(entry.site))) return;
      const scope = currentScope();
      if (scope) {
        entry.scope = scope;
        scope.resources.add(entry);
      }
    });
    hook = createHook({
      init(asyncId, type, _trigger, resource) {
        if (type !== "Timeout") return;
        const scope = currentScope();
        if (!scope) return;
        const site = captureSiteMapped();
        // a test runner's or a library's own timers are not the test's leak
        if (!isUserSite(site)) return;
        const repeat = (resource as { _repeat?: unknown })._repeat != null;
        scope.timers.set(asyncId, { asyncId, site, timer: new WeakRef(resource), repeat });
        timerOwner.set(asyncId, scope);
      },
      destroy(asyncId) {
        const scope = timerOwner.get(asyncId);
        if (!scope) return;
        timerOwner.delete(asyncId);
        scope.timers.delete(asyncId);
      },
    }).enable();
  }
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    users--;
    if (users === 0) {
      diagnosticsChannel.unsubscribe(channelNames.taskSpawn, onSpawn);
      diagnosticsChannel.unsubscribe(channelNames.lockAcquire, onLock);
      diagnosticsChannel.unsubscribe(channelNames.lockRelease, onRelease);
      setAwaitContext(undefined);
      stopResources?.();
      hook?.disable();
      hook = undefined;
    }
  };
}

/** True when a timer is still scheduled and keeps the process alive. */
export function isTimerActive(t: TimerEntry): boolean {
  const timer = t.timer.deref() as { _destroyed?: boolean; hasRef?: () => boolean } | undefined;
  if (!timer) return false;
  if (timer._destroyed === true) return false;
  return typeof timer.hasRef === "function" ? timer.hasRef() : true;
}

/** Forgets a finished scope's timers. */
export function releaseScope(scope: LeakScope): void {
  scope.closed = true;
  for (const id of scope.timers.keys()) timerOwner.delete(id);
}
