/**
 * Lost updates through sequelize's load-modify-save: two requests load the same row, each
 * changes a field and calls `save()`, and the later save writes over the earlier one with a
 * value computed from a read that did not see it. Each instance remembers when it was loaded
 * (the read was sent then); each successful save of a field is remembered per row. A save is
 * reported as an *observed* `lost-update` when another instance's save of the same field of
 * the same row completed after this instance's read was sent, and this instance's read value
 * of the field is not the value that save wrote (so its read did not see it). A save that
 * failed (an optimistic-lock error) is not reported; increments done by the database
 * (`increment()`, `UPDATE … SET n = n + 1`) do not go through save and are not either.
 */
import { currentActivation } from "../core/await-graph.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import { processWide } from "../core/process-wide.js";
import { currentTask } from "../core/task.js";
import { UserFrames } from "../diagnose/user-site.js";
import { taskName } from "./naming.js";

/** What a sequelize instance offers to this check. */
export interface InstanceLike {
  readonly isNewRecord?: boolean;
  readonly constructor: { readonly name?: string };
  changed(): string[] | false;
  previous(key: string): unknown;
  get(key: string): unknown;
  where(): Record<string, unknown>;
}

interface Read {
  /** The clock when the read was sent. */
  readonly sent: number;
  readonly frames: UserFrames;
}

interface Write {
  readonly by: object;
  readonly value: unknown;
  /** The clock when the save completed. */
  readonly done: number;
  readonly who: string;
  readonly frames: UserFrames;
}

const MAX_ROWS = 4096;

const state = processWide("instrumentSequelizeLostUpdate", () => ({
  clock: 0,
  reads: new WeakMap<object, Read>(),
  /** "Model:{pk}" -> field -> the last save that wrote it. */
  writes: new Map<string, Map<string, Write>>(),
}));

const who = (): string => currentActivation()?.name ?? taskName(currentTask());
const comparable = (v: unknown): boolean => v === null || v === undefined || typeof v !== "object" || v instanceof Date;
const same = (a: unknown, b: unknown): boolean => (a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : Object.is(a, b));

/** A read of rows is being sent now: the instances it returns are stamped with this moment. */
export function readStarted(above: Function): (instances: unknown) => void {
  const read: Read = { sent: ++state.clock, frames: new UserFrames(above, 10) };
  return (instances) => {
    for (const i of Array.isArray(instances) ? (instances as unknown[]) : [instances]) {
      if (i !== null && typeof i === "object") state.reads.set(i, read);
    }
  };
}

function rowKey(inst: InstanceLike): string | undefined {
  try {
    return `${inst.constructor.name ?? "model"}:${JSON.stringify(inst.where())}`;
  } catch {
    return undefined;
  }
}

/**
 * A save is being sent now: returns what to call once it succeeded (it then checks and
 * records the write), or undefined when there is nothing to watch.
 */
export function saveStarted(inst: InstanceLike, above: Function): (() => void) | undefined {
  if (inst.isNewRecord === true) return undefined;
  const changed = inst.changed();
  if (changed === false || changed.length === 0) return undefined;
  const fields = changed.map((f) => ({ f, read: inst.previous(f), value: inst.get(f) })).filter((x) => comparable(x.read) && comparable(x.value));
  if (fields.length === 0) return undefined;
  const frames = new UserFrames(above, 10);
  const me = who();
  return () => {
    const key = rowKey(inst);
    if (key === undefined) return;
    const read = state.reads.get(inst);
    const done = ++state.clock;
    let row = state.writes.get(key);
    for (const { f, read: seen, value } of fields) {
      const last = row?.get(f);
      if (last !== undefined && read !== undefined && last.by !== inst && last.done > read.sent && !same(seen, last.value)) {
        report(
          createDiagnosis({
            rule: "lost-update",
            certainty: "observed",
            summary:
              `lost update on ${key} (field "${f}"): ${me} loaded the row, and saved "${f}" = ${String(value)} computed from the ${String(seen)} it read; ` +
              `meanwhile ${last.who} had saved ${String(last.value)}, which its read never saw: that write is lost`,
            subjects: [
              { kind: "code", name: `save of ${key}`, role: "writes over the other save here", site: frames.site },
              { kind: "code", name: `read of ${key}`, role: `loaded the row here (read "${f}" = ${String(seen)})`, site: read.frames.site },
              { kind: "code", name: `save of ${key}`, role: `the lost write, by ${last.who} ("${f}" = ${String(last.value)})`, site: last.frames.site },
            ],
            site: frames.site,
            fix: `let the database do the arithmetic (Model.increment(), or UPDATE … SET "${f}" = "${f}" + $1), or load the row with { lock: true } inside a transaction (SELECT … FOR UPDATE), or enable optimistic locking (version: true) and retry`,
            data: { row: key, field: f },
          }),
        );
      }
    }
    if (row === undefined) {
      if (state.writes.size >= MAX_ROWS) state.writes.delete(state.writes.keys().next().value!);
      state.writes.set(key, (row = new Map<string, Write>()));
    }
    for (const { f, value } of fields) row.set(f, { by: inst, value, done, who: me, frames });
    // the instance now holds what it wrote: its next save is based on this
    state.reads.set(inst, { sent: done, frames });
  };
}
