/**
 * Debug-mode instrumentation of the user's own libraries, at load, with no change to their
 * code: pg, knex, mysql2, generic-pool, async-mutex, async-lock, p-limit and redlock as they come from npm feed asyncdoctor's wait-for graph
 * (sequelize's and typeorm's managed transactions and query runners are watched too),
 * so re-entrance, cycles and pool exhaustion are reported on the user's pool or lock under its
 * own name, and the database's own deadlocks are reported with both sides.
 */
import { InvalidArgTypeError, OutOfRangeError, validateObject } from "../core/validate.js";
import { asyncLockInstrumentation } from "./async-lock.js";
import { asyncMutexInstrumentation } from "./async-mutex.js";
import { genericPoolInstrumentation } from "./generic-pool.js";
import { installLoadHooks, loaderProblem } from "./hooks.js";
import { knexInstrumentation } from "./knex.js";
import { mysql2Instrumentation, mysql2PromiseInstrumentation } from "./mysql2.js";
import type { Instrumentation } from "./library.js";
import { pLimitInstrumentation } from "./p-limit.js";
import { pgInstrumentation } from "./pg.js";
import { redlockInstrumentation } from "./redlock.js";
import { sequelizeInstrumentation } from "./sequelize.js";
import { typeormInstrumentation } from "./typeorm.js";

const LIBRARIES: readonly Instrumentation[] = [
  pgInstrumentation,
  knexInstrumentation,
  mysql2Instrumentation,
  mysql2PromiseInstrumentation,
  genericPoolInstrumentation,
  asyncMutexInstrumentation,
  asyncLockInstrumentation,
  pLimitInstrumentation,
  redlockInstrumentation,
  sequelizeInstrumentation,
  typeormInstrumentation,
];

/** The package an instrumentation belongs to: `mysql2/promise` is mysql2's. */
const packageOf = (module: string): string => module.split("/")[0]!;

/** The packages asyncdoctor can instrument. */
export const instrumentableLibraries: readonly string[] = [...new Set(LIBRARIES.map((l) => packageOf(l.module)))];

/** Options of {@link installInstrumentations}. */
export interface InstrumentationOptions {
  /** The packages to instrument (default: every one in {@link instrumentableLibraries}). */
  libraries?: readonly string[];
}

/** What {@link installInstrumentations} did. */
export interface InstalledInstrumentations {
  /** The packages instrumented. */
  readonly libraries: readonly string[];
  /** Why `import` (ESM) is not instrumented, when it is not; `require()` always is. */
  readonly importProblem: string | undefined;
  /** Turns instrumentation off: nothing new is instrumented, and instrumented objects pass straight through. */
  uninstall(): void;
}

/**
 * Instruments the user's libraries as they load, for `require()` and `import` alike: every pg
 * `Pool`, knex instance, mysql2 pool, generic-pool pool, async-mutex `Mutex`/`Semaphore` and p-limit limiter made after this
 * call is watched for deadlocks under the name of the variable it is assigned to. Libraries
 * already loaded through `require()` are instrumented too; an `import` that already ran is not,
 * so call this first (debug mode does, before the program loads). Calling it again replaces the
 * set of libraries.
 *
 * @example
 * ```ts
 * import { installInstrumentations } from "asyncdoctor";
 * const { uninstall } = installInstrumentations({ libraries: ["pg", "knex"] });
 * const pg = await import("pg"); // new pg.Pool() is now guarded, named after its variable
 * ```
 */
export function installInstrumentations(options: InstrumentationOptions = {}): InstalledInstrumentations {
  validateObject(options, "options");
  const wanted = options.libraries;
  if (wanted !== undefined) {
    if (!Array.isArray(wanted)) throw new InvalidArgTypeError("options.libraries", "an array of package names", wanted);
    for (const [i, name] of wanted.entries()) {
      if (typeof name !== "string") throw new InvalidArgTypeError(`options.libraries[${i}]`, "of type string", name);
      if (!instrumentableLibraries.includes(name)) throw new OutOfRangeError(`options.libraries[${i}]`, `one of ${instrumentableLibraries.join(", ")}`, name);
    }
  }
  const packages = new Set(wanted ?? instrumentableLibraries);
  const enabled = new Set(LIBRARIES.filter((l) => packages.has(packageOf(l.module))).map((l) => l.module));
  const uninstall = installLoadHooks(LIBRARIES, enabled);
  return { libraries: [...packages], importProblem: loaderProblem(), uninstall };
}
