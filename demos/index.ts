/**
 * Every demo, in the seed article's order.
 */
import type { Demo } from "./demo.js";
import { taskLeak } from "./task-leak.js";
import { unawaitedGather } from "./unawaited-gather.js";
import { timeout } from "./timeout.js";
import { gatherExceptions } from "./gather-exceptions.js";
import { swallowedException } from "./swallowed-exception.js";
import { counterRace } from "./counter-race.js";
import { unclosedSession } from "./unclosed-session.js";
import { blockedLoop } from "./blocked-loop.js";
import { leakyTest } from "./leaky-test.js";
import { exitWithPending } from "./exit-with-pending.js";
import { pgPoolDeadlock } from "./pg-pool-deadlock.js";
import { nestedSemaphore } from "./nested-semaphore.js";
import { lockOrder } from "./lock-order.js";
import { connectionPool } from "./connection-pool.js";

/** The demos `npm run demo` runs, in order. Each issue's demos are added here. */
export const demos: readonly Demo[] = [
  taskLeak,
  unawaitedGather,
  nestedSemaphore,
  lockOrder,
  connectionPool,
  pgPoolDeadlock,
  counterRace,
  timeout,
  gatherExceptions,
  swallowedException,
  blockedLoop,
  unclosedSession,
  leakyTest,
  exitWithPending,
];
