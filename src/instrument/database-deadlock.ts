/**
 * The database's own deadlocks. When the server aborts a transaction because it found a lock
 * cycle (PostgreSQL's `40P01 deadlock detected`, MySQL/MariaDB's `ER_LOCK_DEADLOCK`), the
 * error reaches one side only, and names the other sides by backend process id. Instrumented
 * clients keep, per connection, which task runs it and the queries of its current
 * transaction, so the report names both sides in the program's terms: the task, the query that
 * was aborted, and the query each other backend is waiting in. `proven`: the server says so.
 */
import { createDiagnosis, report } from "../core/diagnosis.js";
import { processWide } from "../core/process-wide.js";
import type { Diagnosis, Step, Subject } from "../core/diagnosis.js";
import { formatSite, frameFileName, frameToSite, isInternalFile } from "../core/site.js";
import type { Site } from "../core/site.js";
import { currentTask } from "../core/task.js";
import type { TaskRecord } from "../core/task.js";
import { LazyFrames } from "../diagnose/user-site.js";
import { atSite, taskName } from "./naming.js";

/** The rule id of these reports. */
export const DATABASE_DEADLOCK = "database-deadlock";

/** One query an instrumented connection ran. */
export interface QueryRecord {
  /** The SQL text, shortened. */
  readonly text: string;
  /** The task that issued it. */
  readonly task: TaskRecord | undefined;
  /** Resolved only when a report needs it. */
  readonly lazySite: UserSite | Site | undefined;
  /** performance.now() when it was sent, and when its answer came (undefined while in flight). */
  readonly sentAt: number;
  doneAt: number | undefined;
}

/**
 * A site captured now and resolved later to the first frame of the user's own code: outside
 * asyncdoctor, Node's internals and node_modules (the driver's promise wrapper, knex, an ORM),
 * else the first frame outside asyncdoctor.
 */
export class UserSite {
  #frames: LazyFrames | undefined;
  #site: Site | undefined | null = null;

  constructor(above: Function, depth: number) {
    // captured unformatted: most queries never end in a report
    this.#frames = new LazyFrames(above, depth);
  }

  get site(): Site | undefined {
    if (this.#site === null) {
      let fallback: Site | undefined;
      let found: Site | undefined;
      for (const f of this.#frames?.read() ?? []) {
        const file = frameFileName(f);
        if (file === undefined || isInternalFile(file)) continue;
        const s = frameToSite(f);
        if (s === undefined) continue;
        fallback ??= s;
        if (!/[\\/]node_modules[\\/]/.test(s.file)) {
          found = s;
          break;
        }
      }
      this.#site = found ?? fallback;
      this.#frames = undefined;
    }
    return this.#site;
  }
}

/** Who issued a query: captured in the caller's context (pool.query hands it to the connection). */
export interface QueryOrigin {
  readonly task: TaskRecord | undefined;
  readonly lazySite: UserSite | Site | undefined;
}

/** What an instrumented connection remembers. */
export class ConnectionRecord {
  /** The queries of the current transaction (or the last few outside one), oldest first. */
  readonly queries: QueryRecord[] = [];
  /** How the server names this connection (PostgreSQL's backend PID, MySQL's thread id). */
  backend: number | undefined;
  /** Statements sent and not yet answered. */
  inFlight = 0;
  /** Between a BEGIN / START TRANSACTION and its COMMIT / ROLLBACK. */
  inTransaction = false;

  /** Records a query about to be sent; a new transaction starts a new list. */
  add(text: string, origin: QueryOrigin): QueryRecord {
    if (/^\s*(?:begin|start\s+transaction)\b/i.test(text)) {
      this.queries.length = 0;
      this.inTransaction = true;
    } else if (/^\s*(?:commit|rollback|end)\b/i.test(text)) this.inTransaction = false;
    const q: QueryRecord = { text: shorten(text), task: origin.task, lazySite: origin.lazySite, sentAt: performance.now(), doneAt: undefined };
    this.queries.push(q);
    // a long transaction keeps its first queries (they took the locks) and its latest
    if (this.queries.length > 12) this.queries.splice(4, 1);
    return q;
  }

  /** The query the connection runs now, or ran last. */
  get current(): QueryRecord | undefined {
    return this.queries[this.queries.length - 1];
  }
}

/** The origin of a query issued here: the current task and a site resolved later. */
export function originHere(above: Function): QueryOrigin {
  // a short stack: the caller of the driver is near the top, and a capture costs by its depth
  return { task: currentTask(), lazySite: new UserSite(above, 10) };
}

// the origin a layer above the driver (pg's pool.query, a knex builder) gave the next query on a connection
const handed = processWide("instrumentQueryOrigins", () => new WeakMap<object, QueryOrigin>());

/**
 * Says that the next query sent on `connection` was issued at `origin`: a library between the
 * user and the driver (knex starts a builder's query from a microtask, pg's `pool.query()` from
 * a connect callback) knows the user's line when the driver no longer has it on the stack.
 */
export function handOrigin(connection: object, origin: QueryOrigin): void {
  handed.set(connection, origin);
}

/** The origin handed for the query being sent on `connection` now, once; else undefined. */
export function takeOrigin(connection: object): QueryOrigin | undefined {
  const o = handed.get(connection);
  if (o !== undefined) handed.delete(connection);
  return o;
}

/** Where a query was issued (resolved now, from the frames captured then). */
export function siteOf(q: QueryRecord | QueryOrigin | undefined): Site | undefined {
  const s = q?.lazySite;
  return s instanceof UserSite ? s.site : s;
}

function shorten(text: string): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > 160 ? `${one.slice(0, 157)}...` : one;
}

/**
 * The connections whose current statement overlapped `q` inside an open transaction: when the
 * server names no other side, these are the ones that can have held what `q` waited for (the
 * other side's statement may already have been answered, since the server let it through the
 * moment it chose the victim).
 */
export function overlapping(q: QueryRecord, victim: ConnectionRecord, connections: Iterable<ConnectionRecord>): ConnectionRecord[] {
  const out: ConnectionRecord[] = [];
  for (const rec of connections) {
    if (rec === victim) continue;
    const c = rec.current;
    if (c === undefined || rec.queries.length < 2) continue;
    // in a transaction at the time: it began before q was sent and had not ended
    const began = /^\s*(?:begin|start\s+transaction)\b/i.test(rec.queries[0]!.text);
    if (!began || c.sentAt > performance.now() || (c.doneAt !== undefined && c.doneAt < q.sentAt)) continue;
    if (/^\s*(?:commit|rollback|end)\b/i.test(c.text) && c.doneAt !== undefined && c.doneAt < q.sentAt) continue;
    out.push(rec);
  }
  return out;
}

/** One wait the server listed: `waiter` waits for `lock`, held by `holder`. */
export interface ServerWait {
  readonly waiter: number;
  readonly lock: string;
  readonly holder: number;
}

/** Parses PostgreSQL's deadlock detail: "Process 12 waits for ShareLock on transaction 7; blocked by process 13." */
export function parsePgDeadlockDetail(detail: string | undefined): ServerWait[] {
  const out: ServerWait[] = [];
  if (!detail) return out;
  for (const m of detail.matchAll(/Process (\d+) waits for (.+?); blocked by process (\d+)\./g)) {
    out.push({ waiter: Number(m[1]), lock: m[2]!, holder: Number(m[3]) });
  }
  return out;
}

/** What a driver knows when the server reports a deadlock. */
export interface DeadlockReport {
  /** "PostgreSQL", "MySQL". */
  readonly server: string;
  /** What the server calls a connection: "backend" (PostgreSQL), "thread" (MySQL). */
  readonly backendWord: string;
  /** The server's code: "40P01", "ER_LOCK_DEADLOCK". */
  readonly code: string;
  /** The connection the error came back on, and its query (the server aborted it). */
  readonly victim: ConnectionRecord;
  readonly victimQuery: QueryRecord | undefined;
  /** The waits the server named (empty when it names none, as MySQL's error does not). */
  readonly waits: readonly ServerWait[];
  /** The instrumented connections by backend id, to name the other sides. */
  readonly byBackend: (backend: number) => ConnectionRecord | undefined;
  /**
   * When the server names no other side (MySQL): the instrumented connections that had a
   * statement in flight inside an open transaction when the error came back.
   */
  readonly candidates?: readonly ConnectionRecord[] | undefined;
  /** The server's message. */
  readonly message: string;
}

function describeBackend(
  backend: number,
  byBackend: (b: number) => ConnectionRecord | undefined,
  victim: ConnectionRecord,
  victimQuery: QueryRecord | undefined,
): string {
  const rec = backend === victim.backend ? victim : byBackend(backend);
  const q = rec === victim ? victimQuery : rec?.current;
  if (rec === undefined || q === undefined) return `backend ${backend} (not a connection of this program, or not instrumented)`;
  return `backend ${backend} (task "${taskName(q.task)}"${atSite(siteOf(q))}: ${q.text})`;
}

/** Builds and reports the Diagnosis of a deadlock the server detected. */
export function reportDatabaseDeadlock(r: DeadlockReport): Diagnosis {
  const victimSite = siteOf(r.victimQuery);
  const victimTask = r.victimQuery?.task;
  const subjects: Subject[] = [
    {
      kind: "task",
      name: taskName(victimTask),
      role: `its query was aborted by the server${r.victim.backend === undefined ? "" : ` (${r.backendWord} ${r.victim.backend})`}`,
      site: victimSite,
      detail: r.victimQuery?.text,
    },
  ];
  for (const q of r.victim.queries) {
    if (q === r.victimQuery) continue;
    subjects.push({
      kind: "code",
      name: q.text,
      role: `earlier in the same transaction of task "${taskName(q.task)}" (its locks are held until it ends)`,
      site: siteOf(q),
    });
  }
  const others = new Set<number>();
  for (const w of r.waits) for (const b of [w.waiter, w.holder]) if (b !== r.victim.backend) others.add(b);
  const otherNames: string[] = [];
  for (const b of others) {
    const rec = r.byBackend(b);
    const q = rec?.current;
    if (rec === undefined || q === undefined) {
      subjects.push({ kind: "task", name: `backend ${b}`, role: "the other side: a connection this program did not make through an instrumented client" });
      otherNames.push(`backend ${b}`);
      continue;
    }
    otherNames.push(`task "${taskName(q.task)}" (backend ${b})`);
    subjects.push({ kind: "task", name: taskName(q.task), role: `the other side (backend ${b}): waiting in this query`, site: siteOf(q), detail: q.text });
    for (const earlier of rec.queries) {
      if (earlier === q) continue;
      subjects.push({
        kind: "code",
        name: earlier.text,
        role: `earlier in the transaction of task "${taskName(earlier.task)}" (backend ${b})`,
        site: siteOf(earlier),
      });
    }
  }
  for (const rec of r.candidates ?? []) {
    const q = rec.current;
    if (q === undefined) continue;
    const id = rec.backend === undefined ? "" : ` (${r.backendWord} ${rec.backend})`;
    otherNames.push(`task "${taskName(q.task)}"${id}`);
    subjects.push({
      kind: "task",
      name: taskName(q.task),
      role: `likely the other side${id}: the server does not name it, and this connection had this statement in flight in an open transaction`,
      site: siteOf(q),
      detail: q.text,
    });
  }
  for (const w of r.waits) subjects.push({ kind: "lock", name: w.lock, role: `held by backend ${w.holder}, awaited by backend ${w.waiter}` });
  const steps: Step[] = r.waits.map((w) => ({
    text: `${describeBackend(w.waiter, r.byBackend, r.victim, r.victimQuery)} waits for ${w.lock}, held by ${describeBackend(w.holder, r.byBackend, r.victim, r.victimQuery)}`,
    site: w.waiter === r.victim.backend ? victimSite : siteOf(r.byBackend(w.waiter)?.current),
  }));
  const me = `task "${taskName(victimTask)}"${r.victim.backend === undefined ? "" : ` (${r.backendWord} ${r.victim.backend})`}`;
  const likely = r.candidates !== undefined && r.candidates.length > 0 ? "likely " : "";
  const between =
    otherNames.length > 0 ? `between ${me} and ${likely}${otherNames.join(", ")}` : `involving ${me} and another transaction the server did not name`;
  const summary =
    `${r.server} detected a deadlock ${between}: each transaction holds row locks another one waits for, ` +
    `so the server aborted the query of ${me}${victimSite ? ` at ${formatSite(victimSite)}` : ""} (${r.code}: ${r.message})`;
  return report(
    createDiagnosis({
      rule: DATABASE_DEADLOCK,
      certainty: "proven",
      summary,
      subjects,
      steps,
      site: victimSite,
      fix:
        "take the rows in one order in every transaction (sort the keys you update, or lock them all first with " +
        "SELECT … WHERE id = ANY($1) ORDER BY id FOR UPDATE), so that no two transactions wait for each other; " +
        "and retry a transaction that fails with this error, since the server may still pick it as a victim",
      data: { server: r.server, code: r.code, backends: [r.victim.backend, ...others] },
    }),
  );
}

/** Attaches the Diagnosis to the driver's error, out of its enumerable fields (logs and JSON stay the same). */
export function attachDiagnosis(err: object, d: Diagnosis): void {
  if (Object.isExtensible(err) && !Object.hasOwn(err, "diagnosis")) {
    Object.defineProperty(err, "diagnosis", { value: d, configurable: true, writable: true, enumerable: false });
  }
}
