/**
 * An ORM's managed transaction (`sequelize.transaction(cb)`, typeorm's
 * `dataSource.transaction(cb)`) holds one connection of the ORM's pool while its callback runs.
 * A query inside the callback that does not go through the transaction (no `{ transaction: t }`,
 * the global manager instead of the callback's) takes a second connection of the same pool: it
 * works while one is free, and when every connection is held by a transaction doing this, each
 * waits for ever (until the pool's acquire timeout, if it has one). The ORM instrumentations run
 * the callback in a {@link TransactionScope} and report such a request, once per site, as a
 * *potential* `pool-exhaustion` at the user's line: the ORM's own timeout will break the knot,
 * so it is never proven.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { currentActivation, nodeOf } from "../core/await-graph.js";
import type { Activation } from "../core/await-graph.js";
import { createDiagnosis, report } from "../core/diagnosis.js";
import type { Subject } from "../core/diagnosis.js";
import { processWide } from "../core/process-wide.js";
import { formatSite } from "../core/site.js";
import type { Site } from "../core/site.js";
import { currentTask } from "../core/task.js";
import type { TaskRecord } from "../core/task.js";
import { UserFrames } from "../diagnose/user-site.js";
import { atSite, taskName } from "./naming.js";

/** What one ORM instance is, to the reports. */
export interface OrmPool {
  /** "sequelize (src/db.ts:3)". */
  readonly name: string;
  readonly site: Site | undefined;
  /** The pool's size, when known. */
  readonly max: number | undefined;
  /** What the ORM calls a connection of its pool ("connection", "query runner"). */
  readonly resource: string;
  /** The concrete fix, for this ORM. */
  readonly fix: string;
}

/** One managed transaction's callback, running. */
export interface TransactionScope {
  /** The ORM instance whose pool the transaction holds a connection of. */
  readonly owner: object;
  readonly pool: OrmPool;
  readonly task: TaskRecord | undefined;
  /** Where the user began the transaction. */
  readonly begun: UserFrames;
  /** The callback's async function activation (debug mode's await graph), once it has one. */
  activation: Activation | undefined;
}

/** The scope a piece of code runs in, and the user's call that led to it (an ORM method). */
interface Context {
  readonly scope: TransactionScope;
  readonly call: UserFrames | undefined;
}

const state = processWide("instrumentOrmTransactions", () => ({
  storage: new AsyncLocalStorage<Context>(),
  /** Per ORM instance, the sites already reported. */
  reported: new WeakMap<object, Set<string>>(),
}));

/**
 * Runs a transaction's callback inside its scope; records the callback's activation, if the
 * await graph gave it one, so a report can say where it awaits.
 */
export function runInTransaction<R>(owner: object, pool: OrmPool, begun: UserFrames, callback: () => R): R {
  const scope: TransactionScope = { owner, pool, task: currentTask(), begun, activation: undefined };
  const result = state.storage.run({ scope, call: undefined }, callback);
  if (result !== null && typeof result === "object") {
    const n = nodeOf(result);
    if (n?.kind === "activation") scope.activation = n as Activation;
  }
  return result;
}

/** The transaction of `owner` whose callback the current code runs inside, if any. */
export function transactionOf(owner: object): TransactionScope | undefined {
  const ctx = state.storage.getStore();
  return ctx !== undefined && ctx.scope.owner === owner ? ctx.scope : undefined;
}

/** True when the current code runs inside some managed transaction's callback (cheap: one store read). */
export function inAnyTransaction(): boolean {
  return state.storage.getStore() !== undefined;
}

/**
 * Runs one of the ORM's methods called by the user inside a transaction, remembering where it
 * was called (the first such call wins: the ORM's own inner calls keep the user's line).
 */
export function withUserCall<R>(above: Function, fn: () => R): R {
  const ctx = state.storage.getStore();
  if (ctx === undefined || ctx.call !== undefined) return fn();
  return state.storage.run({ scope: ctx.scope, call: new UserFrames(above, 12) }, fn);
}

/** Where `activation` awaits now, as a site; undefined when it is running (its last await is over). */
function awaitSite(activation: Activation | undefined): Site | undefined {
  if (activation === undefined) return undefined;
  for (let a = currentActivation(), n = 0; a !== undefined && n < 64; a = a.caller, n++) if (a === activation) return undefined;
  const l = activation.link();
  return l.file === "" ? undefined : { file: l.file, line: l.line, column: l.column };
}

const sameLine = (a: Site | undefined, b: Site | undefined): boolean => a !== undefined && b !== undefined && a.file === b.file && a.line === b.line;

/**
 * Reports that code inside `scope`'s transaction asks the ORM's pool for another connection
 * (`how`: "a query without { transaction }"). `here` is the stack of the request itself, used
 * when no user call was recorded. Once per site and ORM instance.
 */
export function reportSecondConnection(scope: TransactionScope, how: string, here: UserFrames | undefined): void {
  const call = state.storage.getStore()?.call;
  const frames = [...(call?.sites ?? []), ...(call === undefined ? (here?.sites ?? []) : [])];
  const site = frames[0];
  let reported = state.reported.get(scope.owner);
  if (reported === undefined) state.reported.set(scope.owner, (reported = new Set()));
  const key = site ? formatSite(site) : how;
  if (reported.has(key)) return;
  reported.add(key);
  const { pool } = scope;
  const begun = scope.begun.site;
  const holder = scope.activation?.name ?? (scope.task !== undefined ? taskName(scope.task) : `the transaction begun${atSite(begun)}`);
  const awaited = awaitSite(scope.activation);
  const subjects: Subject[] = [
    { kind: "task", name: holder, role: `holds a ${pool.resource} of "${pool.name}" in a transaction begun here`, site: begun },
    { kind: "lock", name: pool.name, role: "pool", site: pool.site, detail: pool.max === undefined ? undefined : `${pool.max} ${pool.resource}s` },
    { kind: "code", name: how, role: "asks the pool for another here", site },
  ];
  // who called it, up to the transaction's callback (the user's frames above the call)
  for (const caller of frames.slice(1, 4)) {
    if (sameLine(caller, begun)) break;
    subjects.push({ kind: "code", name: how, role: "called from here, inside the transaction", site: caller });
  }
  if (awaited !== undefined && !frames.some((f) => sameLine(f, awaited))) {
    subjects.push({ kind: "code", name: how, role: "the transaction awaits here", site: awaited });
  }
  const all = pool.max === undefined ? "all" : `all ${pool.max}`;
  report(
    createDiagnosis({
      rule: "pool-exhaustion",
      certainty: "potential",
      summary:
        `"${holder}" holds a ${pool.resource} of "${pool.name}" in a transaction and asks the same pool for another (${how}): ` +
        `when ${all} ${pool.resource}s are held by transactions doing this, every one of them waits for ever (until the pool's acquire timeout, if any)`,
      subjects,
      site,
      fix: pool.fix,
      data: { max: pool.max },
    }),
  );
}
