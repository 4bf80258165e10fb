/**
 * The timeline as data, apart from its drawing: the recorder's events folded into one lane per
 * task, each with bars (alive, waiting, holding) and marks (settled, gave up).
 */
import type { TimelineEvent } from "../../diagnose/timeline.js";

/** A stretch of time in a lane: the task alive, waiting on a primitive, or holding one. */
export interface Bar {
  readonly kind: "wait" | "hold" | "life";
  readonly start: number;
  end: number;
  /** Still going when the timeline ends. */
  open: boolean;
  readonly label: string;
}

/** A moment in a lane: a task settled, a wait given up. */
export interface Mark {
  readonly t: number;
  readonly label: string;
  readonly kind: string;
}

/** One task's row. */
export interface Lane {
  readonly name: string;
  readonly bars: Bar[];
  readonly marks: Mark[];
}

/** The lanes of a run, and the span of time they cover. */
export interface TimelineModel {
  readonly t0: number;
  readonly t1: number;
  /** In order of each task's first event. */
  readonly lanes: readonly Lane[];
}

/**
 * Folds events (oldest first) into lanes. A bar still open at the end runs to `endTime` (or the
 * last event, when later). Undefined when there are no events.
 */
export function buildTimeline(events: readonly TimelineEvent[], endTime: number): TimelineModel | undefined {
  if (events.length === 0) return undefined;
  const t0 = events[0]!.time;
  const t1 = Math.max(endTime, events[events.length - 1]!.time, t0 + 1);
  const lanes = new Map<string, Lane>();
  // a runExclusive/use scope is drawn in the lane of the task it runs in
  const lane = (e: TimelineEvent): Lane => {
    const id = e.ownerId ?? e.taskId;
    const k = id !== undefined ? `t${id}` : `n${e.taskName ?? "(no task)"}`;
    let l = lanes.get(k);
    const name = e.ownerName ?? e.taskName ?? (id !== undefined ? `task#${id}` : "(no task)");
    if (!l) lanes.set(k, (l = { name, bars: [], marks: [] }));
    return l;
  };
  const open = new Map<string, Bar>();
  for (const e of events) {
    const l = lane(e);
    const who = `${e.taskId ?? e.taskName ?? "?"}`;
    const lockLabel = `${e.lockKind ?? "lock"} "${e.lockName ?? "?"}"`;
    const lk = `${who}\0${e.lockId ?? e.lockName}`;
    switch (e.kind) {
      case "spawn": {
        const b: Bar = { kind: "life", start: e.time, end: t1, open: true, label: `task "${l.name}" running` };
        l.bars.push(b);
        open.set(`${who}\0life`, b);
        break;
      }
      case "settle": {
        const b = open.get(`${who}\0life`);
        if (b) {
          b.end = e.time;
          b.open = false;
        }
        l.marks.push({ t: e.time, label: `settled: ${e.state ?? "?"}`, kind: e.state ?? "settle" });
        break;
      }
      case "wait": {
        const b: Bar = { kind: "wait", start: e.time, end: t1, open: true, label: `waits for ${lockLabel}` };
        l.bars.push(b);
        open.set(`${lk}\0wait`, b);
        break;
      }
      case "acquire": {
        // a runExclusive/use acquire is made by a new scope: the wait was its parent's
        const parentKey = `${e.parentId ?? "?"}\0${e.lockId ?? e.lockName}\0wait`;
        const waitKey = open.has(`${lk}\0wait`) ? `${lk}\0wait` : parentKey;
        const w = open.get(waitKey);
        if (w) {
          w.end = e.time;
          w.open = false;
          open.delete(waitKey);
        }
        const b: Bar = { kind: "hold", start: e.time, end: t1, open: true, label: `holds ${lockLabel}` };
        l.bars.push(b);
        open.set(`${lk}\0hold`, b);
        break;
      }
      case "abandon": {
        const w = open.get(`${lk}\0wait`);
        if (w) {
          w.end = e.time;
          w.open = false;
          open.delete(`${lk}\0wait`);
        }
        l.marks.push({ t: e.time, label: `gave up waiting for ${lockLabel}: ${e.reason ?? "?"}`, kind: "abandon" });
        break;
      }
      case "release": {
        const h = open.get(`${lk}\0hold`);
        if (h) {
          h.end = e.time;
          h.open = false;
          open.delete(`${lk}\0hold`);
        } else {
          // a wait that ended without an acquire (timed out, aborted, rejected as a deadlock)
          const w = open.get(`${lk}\0wait`);
          if (w) {
            w.end = e.time;
            w.open = false;
            open.delete(`${lk}\0wait`);
          }
        }
        break;
      }
    }
  }
  return { t0, t1, lanes: [...lanes.values()] };
}
