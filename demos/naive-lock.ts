/**
 * A lock with no detection, standing in for asyncio.Semaphore / async-mutex in the "old
 * behaviour" half of the deadlock demos: FIFO permits and nothing else, so a deadlock simply
 * hangs.
 */

/** What the demos' bug… and fixed… functions need of a lock or a pool. */
export interface Exclusive {
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
}

/** A FIFO semaphore of `permits` with no detection at all. */
export function naiveSemaphore(permits: number): Exclusive {
  let free = permits;
  const queue: Array<() => void> = [];
  return {
    async runExclusive<T>(fn: () => Promise<T>): Promise<T> {
      if (free > 0 && queue.length === 0) free--;
      else await new Promise<void>((resolve) => queue.push(resolve));
      try {
        return await fn();
      } finally {
        const next = queue.shift();
        if (next) next();
        else free++;
      }
    },
  };
}

/** Resolves "hung" if `work` has not settled within `ms` (the demo goes on; the work stays stuck). */
export async function cutAfter(work: Promise<unknown>, ms: number): Promise<"settled" | "hung"> {
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<"hung">((resolve) => {
    timer = setTimeout(() => resolve("hung"), ms);
  });
  const done = work.then(
    () => "settled" as const,
    () => "settled" as const,
  );
  try {
    return await Promise.race([done, cut]);
  } finally {
    clearTimeout(timer);
  }
}

/** A short pause that gives the other coroutine time to take its first lock. */
export const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
