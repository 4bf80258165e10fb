/**
 * Every demo, in the seed article's order.
 */
import type { Demo } from "./demo.js";
import { taskLeak } from "./task-leak.js";
import { unawaitedGather } from "./unawaited-gather.js";
import { timeout } from "./timeout.js";
import { gatherExceptions } from "./gather-exceptions.js";
import { swallowedException } from "./swallowed-exception.js";
import { nestedSemaphore } from "./nested-semaphore.js";
import { lockOrder } from "./lock-order.js";
import { connectionPool } from "./connection-pool.js";

/** The demos `npm run demo` runs, in order. Each issue's demos are added here. */
export const demos: readonly Demo[] = [
  taskLeak,
  unawaitedGather,
  timeout,
  gatherExceptions,
  swallowedException,
  nestedSemaphore,
  lockOrder,
  connectionPool,
];
