/**
 * The Diagnosis: the one record every finding is, at run time or from the checker.
 */
import { channels } from "./channels.js";
import { getConfig } from "./config.js";
import type { Site } from "./site.js";
import { processWide } from "./process-wide.js";

/** How sure the finding is: it happened and can never resolve, it was seen, or it could happen. */
export type Certainty = "proven" | "observed" | "potential";

/** The runtime rule ids (the static checker's rules use their own ids). */
export type RuntimeRule =
  | "deadlock-reentrant"
  | "deadlock-cycle"
  | "pool-exhaustion"
  | "lock-order-inversion"
  | "long-wait"
  | "lost-update"
  | "task-failed"
  | "unhandled-rejection"
  | "dropped-promise"
  | "leaked-task"
  | "leaked-resource"
  | "leaked-lock"
  | "leaked-timer"
  | "never-settled"
  | "loop-blocked"
  | "timeout";

/** What a subject of a finding is. */
export type SubjectKind = "task" | "lock" | "resource" | "promise" | "code";

/** One task, lock, resource or place of code involved in a finding. */
export interface Subject {
  readonly kind: SubjectKind;
  /** A name a person recognises: the given name, or the file:line that created it. */
  readonly name: string;
  /** Its part in the finding: "holder", "waiter", "acquired here", "spawned here", … */
  readonly role?: string | undefined;
  /** Where it was created or where the role happened. */
  readonly site?: Site | undefined;
  /** A short free-form addition ("held for 1.2 s", "state: pending"). */
  readonly detail?: string | undefined;
}

/** One step of a chain: a cycle's edge, a call chain, an order of events. */
export interface Step {
  readonly text: string;
  readonly site?: Site | undefined;
}

/** A finding. */
export interface Diagnosis {
  /** Stable rule id, e.g. `deadlock-cycle` or the checker's `floating-promise`. */
  readonly rule: RuntimeRule | (string & {});
  readonly certainty: Certainty;
  /** One sentence: what is wrong, with names. */
  readonly summary: string;
  /** The tasks, locks, resources and sites involved. */
  readonly subjects: readonly Subject[];
  /** A cycle in forward order, a call chain, or a sequence of events. */
  readonly steps?: readonly Step[] | undefined;
  /** What to change, concretely. */
  readonly fix: string;
  /** Where the finding is anchored in source (the checker's location; the runtime's primary site). */
  readonly site?: Site | undefined;
  /** When it was made (ms since the epoch). */
  readonly time: number;
  /** For a finding that retracts an earlier one (a long wait that ended): the earlier one's id. */
  readonly retracts?: string | undefined;
  /** Unique per process, so a retraction can name what it retracts. */
  readonly id: string;
  /** Extra rule-specific figures (durations, counts). */
  readonly data?: Readonly<Record<string, unknown>> | undefined;
}

/** The fields a producer supplies; `id` and `time` are filled in. */
export type DiagnosisInit = Omit<Diagnosis, "id" | "time"> & { time?: number };

const diagnosisIds = processWide("diagnosisIds", () => ({ next: 1 }));

/** Builds a Diagnosis with a fresh id and the current time. */
export function createDiagnosis(init: DiagnosisInit): Diagnosis {
  return { ...init, time: init.time ?? Date.now(), id: `d${diagnosisIds.next++}` };
}

type Sink = (d: Diagnosis) => void;

// The default sink is installed by the package entry (report/ renders text); core does not know report/.
let defaultSink: Sink = (d) => {
  process.stderr.write(`asyncdoctor: ${d.certainty} ${d.rule}: ${d.summary}\n`);
};

/** Replaces what happens to a Diagnosis when no `onDiagnosis` is configured. */
export function setDefaultSink(sink: Sink): void {
  defaultSink = sink;
}

const collectors = processWide("collectors", () => new Set<Sink>());

/** Also hands every runtime Diagnosis to `collector` (the exit report and the test helpers use this). */
export function addCollector(collector: Sink): () => void {
  collectors.add(collector);
  return () => collectors.delete(collector);
}

/**
 * Publishes a runtime Diagnosis: to `configure({ onDiagnosis })` (or stderr), to collectors, and
 * on the `asyncdoctor:diagnosis` diagnostics channel. A throwing handler never breaks the caller.
 */
/** String(v), or a placeholder when even that throws (a value whose toString throws). */
function safeString(v: unknown): string {
  try {
    return v instanceof Error ? (v.stack ?? `${v.name}: ${v.message}`) : String(v);
  } catch {
    return "<a value that cannot be turned into a string>";
  }
}

export function report(d: Diagnosis, options?: { thrown?: boolean }): Diagnosis {
  // a finding thrown as an error (a DeadlockError) is the caller's to print: the default sink
  // (stderr) stays quiet for it, so a caught one prints nothing unless onDiagnosis asks for it
  const configured = getConfig().onDiagnosis;
  const sink = configured ?? (options?.thrown === true ? undefined : defaultSink);
  try {
    sink?.(d);
  } catch (err) {
    // a sink that throws must not break the detector that reported (nor leave it half done)
    process.stderr.write(`asyncdoctor: onDiagnosis threw: ${safeString(err)}\n`);
  }
  for (const c of collectors) {
    try {
      c(d);
    } catch {
      // a collector must not break the program it observes
    }
  }
  if (channels.diagnosis.hasSubscribers) channels.diagnosis.publish(d);
  return d;
}
