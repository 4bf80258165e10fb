/**
 * OpenTelemetry: tracked tasks and lock waits become spans, acquires, releases and findings
 * become span events — all from asyncdoctor's diagnostics channels.
 *
 * `@opentelemetry/api` is an optional peer dependency: it is loaded only when
 * {@link enableOpenTelemetry} is called, and nothing is subscribed before that, so a program
 * that does not use it pays nothing (publishers check `hasSubscribers`).
 */
import diagnosticsChannel from "node:diagnostics_channel";
import type * as OtelApi from "@opentelemetry/api";
import { channelNames } from "../core/channels.js";
import type { Diagnosis } from "../core/diagnosis.js";
import type { Site } from "../core/site.js";
import { isInternalFile } from "../core/site.js";
import { currentTask } from "../core/task.js";
import type { TaskRecord } from "../core/task.js";
import { InvalidArgTypeError, validateObject, validateOptionalString } from "../core/validate.js";

/** Options of {@link enableOpenTelemetry}. */
export interface OpenTelemetryOptions {
  /** The instrumentation scope name of the tracer (default "asyncdoctor"). */
  tracerName?: string;
  /** A span per tracked task, from spawn to settle (default true). */
  tasks?: boolean;
  /** A span per wait on a mutex, semaphore, RWLock or pool; acquire and release events (default true). */
  locks?: boolean;
  /** Every runtime Diagnosis as an event on the span of the task it concerns, else the active span (default true). */
  diagnoses?: boolean;
}

/** The running bridge; `disable()` (or `using`) unsubscribes and ends the spans still open. */
export interface OpenTelemetryBridge extends Disposable {
  readonly enabled: boolean;
  disable(): void;
}

type Api = typeof OtelApi;

const ATTR = {
  taskId: "asyncdoctor.task.id",
  taskName: "asyncdoctor.task.name",
  taskParentId: "asyncdoctor.task.parent_id",
  taskState: "asyncdoctor.task.state",
  lockName: "asyncdoctor.lock.name",
  lockKind: "asyncdoctor.lock.kind",
  permits: "asyncdoctor.lock.permits",
  mode: "asyncdoctor.lock.mode",
  outcome: "asyncdoctor.wait.outcome",
  rule: "asyncdoctor.rule",
  certainty: "asyncdoctor.certainty",
  summary: "asyncdoctor.summary",
  fix: "asyncdoctor.fix",
  diagnosisId: "asyncdoctor.diagnosis.id",
  incomplete: "asyncdoctor.incomplete",
} as const;

async function loadApi(): Promise<Api | undefined> {
  try {
    const mod = (await import("@opentelemetry/api")) as Api & { default?: Api };
    return typeof mod.trace?.getTracer === "function" ? mod : mod.default;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") return undefined;
    throw err;
  }
}

function validateOptionalBoolean(v: unknown, name: string): void {
  if (v !== undefined && typeof v !== "boolean") throw new InvalidArgTypeError(name, "of type boolean", v);
}

function siteAttrs(site: Site | undefined): OtelApi.Attributes {
  // OpenTelemetry's semantic conventions for code locations
  return site && !isInternalFile(site.file) ? { "code.filepath": site.file, "code.lineno": site.line, "code.column": site.column } : {};
}

/** A primitive's name or kind from a channel message, as text (the message is not trusted). */
function label(v: unknown, fallback: string): string {
  return typeof v === "string" || typeof v === "number" ? String(v) : fallback;
}

interface LockMessage {
  readonly lock?: { readonly name?: unknown; readonly kind?: unknown } | null;
  readonly task?: TaskRecord;
  readonly permits?: unknown;
  readonly mode?: unknown;
  readonly site?: Site;
}

/**
 * Turns asyncdoctor's task and lock events into OpenTelemetry spans. Resolves to `undefined`
 * when `@opentelemetry/api` is not installed (so it is safe to call unconditionally).
 *
 * Spans: `asyncdoctor.task <name>` from spawn to settle (status ERROR when it failed), child of
 * the spawning task's span or of the span active at spawn; `asyncdoctor.wait <kind> <name>` from
 * the start of a wait to the acquire, or to its end without one (`asyncdoctor.wait.outcome`:
 * "timeout", "abort", "cancel").
 * Events: `asyncdoctor.acquire`, `asyncdoctor.release`, `asyncdoctor.diagnosis`.
 *
 * @example
 * ```ts
 * import { enableOpenTelemetry } from "asyncdoctor";
 * const bridge = await enableOpenTelemetry({ tracerName: "my-service" });
 * // … later, e.g. at shutdown
 * bridge?.disable();
 * ```
 */
export async function enableOpenTelemetry(options: OpenTelemetryOptions = {}): Promise<OpenTelemetryBridge | undefined> {
  validateObject(options, "options");
  validateOptionalString(options.tracerName, "options.tracerName");
  validateOptionalBoolean(options.tasks, "options.tasks");
  validateOptionalBoolean(options.locks, "options.locks");
  validateOptionalBoolean(options.diagnoses, "options.diagnoses");
  const api = await loadApi();
  if (!api) return undefined;
  return new Bridge(api, options);
}

class Bridge implements OpenTelemetryBridge {
  readonly #api: Api;
  readonly #tracer: OtelApi.Tracer;
  // spans are keyed by the live objects, so finished tasks and dropped locks are not kept alive
  readonly #taskSpans = new WeakMap<TaskRecord, OtelApi.Span>();
  readonly #waits = new WeakMap<object, Map<TaskRecord | undefined, OtelApi.Span[]>>();
  readonly #open = new Set<OtelApi.Span>();
  readonly #subs: Array<[string, (m: unknown) => void]> = [];
  #enabled = true;

  constructor(api: Api, options: OpenTelemetryOptions) {
    this.#api = api;
    this.#tracer = api.trace.getTracer(options.tracerName ?? "asyncdoctor");
    if (options.tasks ?? true) {
      this.#subs.push([channelNames.taskSpawn, (m) => this.#onSpawn(m)], [channelNames.taskSettle, (m) => this.#onSettle(m)]);
    }
    if (options.locks ?? true) {
      this.#subs.push(
        [channelNames.lockWait, (m) => this.#onWait(m as LockMessage)],
        [channelNames.lockAcquire, (m) => this.#onAcquire(m as LockMessage)],
        [channelNames.lockRelease, (m) => this.#onRelease(m as LockMessage)],
        [channelNames.lockAbandon, (m) => this.#onAbandon(m as LockMessage & { reason?: unknown })],
      );
    }
    if (options.diagnoses ?? true) this.#subs.push([channelNames.diagnosis, (m) => this.#onDiagnosis(m as Diagnosis)]);
    for (const [name, fn] of this.#subs) diagnosticsChannel.subscribe(name, fn);
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  disable(): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    for (const [name, fn] of this.#subs) diagnosticsChannel.unsubscribe(name, fn);
    for (const span of this.#open) {
      span.setAttribute(ATTR.incomplete, true);
      span.end();
    }
    this.#open.clear();
  }

  [Symbol.dispose](): void {
    this.disable();
  }

  /** The context a new span of `task` starts in: its parent task's span, else what is active now. */
  #parentContext(task: TaskRecord | undefined): OtelApi.Context {
    const { context, trace } = this.#api;
    for (let t = task; t; t = t.parent) {
      const span = this.#taskSpans.get(t);
      if (span) return trace.setSpan(context.active(), span);
    }
    return context.active();
  }

  #start(name: string, attributes: OtelApi.Attributes, parent: OtelApi.Context): OtelApi.Span {
    const span = this.#tracer.startSpan(name, { attributes, kind: this.#api.SpanKind.INTERNAL }, parent);
    this.#open.add(span);
    return span;
  }

  #end(span: OtelApi.Span): void {
    this.#open.delete(span);
    span.end();
  }

  #onSpawn(message: unknown): void {
    const task = (message as { task?: TaskRecord } | null)?.task;
    if (!task || typeof task !== "object") return;
    const attrs: OtelApi.Attributes = { [ATTR.taskId]: task.id, [ATTR.taskName]: task.name, ...siteAttrs(task.site) };
    if (task.parent) attrs[ATTR.taskParentId] = task.parent.id;
    this.#taskSpans.set(task, this.#start(`asyncdoctor.task ${task.name}`, attrs, this.#parentContext(task.parent)));
  }

  #onSettle(message: unknown): void {
    const m = message as { task?: TaskRecord; state?: string; error?: unknown } | null;
    const span = m?.task ? this.#taskSpans.get(m.task) : undefined;
    if (!span || !m?.task) return;
    this.#taskSpans.delete(m.task);
    span.setAttribute(ATTR.taskState, String(m.state));
    if (m.state === "rejected") {
      const err = m.error;
      if (err instanceof Error) span.recordException(err);
      else span.recordException({ message: String(err) });
      span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    }
    this.#end(span);
  }

  #lockAttrs(m: LockMessage): OtelApi.Attributes {
    const a: OtelApi.Attributes = {};
    if (typeof m.lock?.name === "string") a[ATTR.lockName] = m.lock.name;
    if (typeof m.lock?.kind === "string") a[ATTR.lockKind] = m.lock.kind;
    if (typeof m.permits === "number") a[ATTR.permits] = m.permits;
    if (m.mode === "read" || m.mode === "write") a[ATTR.mode] = m.mode;
    if (m.task) {
      a[ATTR.taskId] = m.task.id;
      a[ATTR.taskName] = m.task.name;
    }
    return a;
  }

  #onWait(m: LockMessage): void {
    if (!m || typeof m.lock !== "object" || m.lock === null) return;
    const name = `asyncdoctor.wait ${label(m.lock.kind, "lock")} ${label(m.lock.name, "")}`.trimEnd();
    const span = this.#start(name, { ...this.#lockAttrs(m), ...siteAttrs(m.site) }, this.#parentContext(m.task));
    let byTask = this.#waits.get(m.lock);
    if (!byTask) this.#waits.set(m.lock, (byTask = new Map<TaskRecord | undefined, OtelApi.Span[]>()));
    const list = byTask.get(m.task);
    if (list) list.push(span);
    else byTask.set(m.task, [span]);
  }

  /** Ends the oldest open wait of this task on this lock, if any. */
  #endWait(m: LockMessage, outcome: string): boolean {
    if (!m || typeof m.lock !== "object" || m.lock === null) return false;
    const byTask = this.#waits.get(m.lock);
    // a runExclusive/use acquire is made by a new scope: the wait was its parent's
    const who = byTask?.has(m.task) || m.task?.kind !== "scope" ? m.task : m.task.parent;
    const list = byTask?.get(who);
    const span = list?.shift();
    if (list && list.length === 0) byTask!.delete(who);
    if (!span) return false;
    span.setAttribute(ATTR.outcome, outcome);
    this.#end(span);
    return true;
  }

  /** Where an acquire/release event goes: the task's span, else the active span. */
  #eventTarget(task: TaskRecord | undefined): OtelApi.Span | undefined {
    for (let t = task; t; t = t.parent) {
      const span = this.#taskSpans.get(t);
      if (span) return span;
    }
    return this.#api.trace.getActiveSpan();
  }

  #onAcquire(m: LockMessage): void {
    if (!m || typeof m.lock !== "object" || m.lock === null) return;
    const waited = this.#endWait(m, "acquired");
    this.#eventTarget(m.task)?.addEvent("asyncdoctor.acquire", { ...this.#lockAttrs(m), "asyncdoctor.waited": waited });
  }

  #onRelease(m: LockMessage): void {
    if (!m || typeof m.lock !== "object" || m.lock === null) return;
    // a release with a wait still open is a wait that ended without the lock (timeout, abort, deadlock)
    if (this.#endWait(m, "abandoned")) return;
    this.#eventTarget(m.task)?.addEvent("asyncdoctor.release", this.#lockAttrs(m));
  }

  #onAbandon(m: LockMessage & { reason?: unknown }): void {
    this.#endWait(m, typeof m?.reason === "string" ? m.reason : "abandoned");
  }

  #onDiagnosis(d: Diagnosis): void {
    if (!d || typeof d.rule !== "string") return;
    // findings name tasks, not records: attach to the span of the task it was reported in
    const target = this.#currentTaskSpan() ?? this.#api.trace.getActiveSpan();
    if (!target) return;
    target.addEvent("asyncdoctor.diagnosis", {
      [ATTR.rule]: d.rule,
      [ATTR.certainty]: d.certainty,
      [ATTR.summary]: d.summary,
      [ATTR.fix]: d.fix,
      [ATTR.diagnosisId]: d.id,
      ...siteAttrs(d.site),
    });
  }

  #currentTaskSpan(): OtelApi.Span | undefined {
    const task = currentTask();
    return task ? this.#eventTarget(task) : undefined;
  }
}
