// Correct programs that async-mutex and p-limit run to the end. Each of them once got a
// proven DeadlockError, because a request made in a holder's context was read as the holder
// waiting for it. They must run to the end with no proven finding, in production mode and in
// debug mode (with the await graph). The true deadlocks next to them are caught.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { readFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Mutex } from "../../src/sync/mutex.js";
import { Semaphore } from "../../src/sync/semaphore.js";
import { Pool } from "../../src/sync/pool.js";
import { configure } from "../../src/core/config.js";
import { DeadlockError } from "../../src/core/errors.js";
import pLimit from "../../src/compat/p-limit.js";
import { Mutex as CompatMutex } from "../../src/compat/async-mutex.js";
import { withTimeout } from "../../src/tasks/with-timeout.js";
import { collecting, deferred, tick } from "../helpers.js";

type Program = () => Promise<unknown>;

/** Each correct program returns once all the work it started has finished. */
const correct: Record<string, Program> = {
  "a follow-up job on the same mutex, started inside the section and not awaited": async () => {
    const m = new Mutex({ name: "jobs" });
    let followUp: Promise<void> | undefined;
    await m.runExclusive(async () => {
      followUp = m.runExclusive(async () => {});
      await tick();
    });
    await followUp;
  },
  "an EventEmitter listener, fired under the lock, that takes the lock": async () => {
    const m = new Mutex({ name: "state" });
    const events = new EventEmitter();
    const done: Promise<void>[] = [];
    events.on("changed", () => done.push(m.runExclusive(async () => {})));
    await m.runExclusive(async () => {
      events.emit("changed");
      await tick();
    });
    await Promise.all(done);
  },
  "a .then()-chained follow-up on a Semaphore(1)": async () => {
    const s = new Semaphore(1, { name: "s" });
    let chained: Promise<void> | undefined;
    await s.runExclusive(async () => {
      chained = Promise.resolve().then(() => s.runExclusive(async () => {}));
      await tick();
    });
    await chained;
  },
  "timer, immediate, nextTick and I/O callbacks scheduled inside a section that take the lock after an await": async () => {
    const m = new Mutex({ name: "cb" });
    const all: Promise<void>[] = [];
    const started = deferred();
    let n = 0;
    const take = () => {
      all.push(
        (async () => {
          await Promise.resolve();
          await m.runExclusive(async () => {});
        })(),
      );
      if (++n === 4) started.resolve();
    };
    await m.runExclusive(async () => {
      setTimeout(take, 0);
      setImmediate(take);
      process.nextTick(take);
      void readFile(fileURLToPath(import.meta.url)).then(take);
      await started.promise;
    });
    await Promise.all(all);
  },
  "a callback scheduled inside section A that takes B and then the held A": async () => {
    const a = new Mutex({ name: "A" });
    const b = new Mutex({ name: "B" });
    let later: Promise<void> | undefined;
    const scheduled = deferred();
    await a.runExclusive(async () => {
      setTimeout(() => {
        later = b.runExclusive(() => a.runExclusive(async () => {}));
        scheduled.resolve();
      }, 0);
      await scheduled.promise;
      await tick();
    });
    await later;
  },
  "a p-limit(1) crawler whose jobs enqueue their children without awaiting them": async () => crawl(1),
  "a p-limit(2) crawler whose jobs enqueue their children without awaiting them": async () => crawl(2),
  "an async fire-and-forget wrapper that awaits the limiter, called from inside a job": async () => {
    const limit = pLimit(1);
    const finished: Promise<void>[] = [];
    const enqueue = async (n: number): Promise<void> => {
      await limit(async () => {
        if (n < 3) finished.push(enqueue(n + 1)); // started, not awaited
        await tick();
      });
    };
    await enqueue(0);
    while (finished.length < 3) await tick();
    await Promise.all(finished);
  },
  "a pool job that starts a follow-up query it does not wait for": async () => {
    let id = 0;
    const pool = new Pool({ name: "db", max: 2, create: () => ({ id: ++id }) });
    const followUps: Promise<unknown>[] = [];
    const job = () =>
      pool.use(async () => {
        followUps.push(pool.use(async () => "audit"));
        await tick();
      });
    await Promise.all([job(), job()]);
    await Promise.all(followUps);
  },
  "a withTimeout body left running after its timeout, then taking the lock its caller holds": async () => {
    const m = new Mutex({ name: "cache" });
    const bodyDone = deferred();
    await m.runExclusive(async () => {
      await withTimeout(async () => {
        await new Promise((r) => setTimeout(r, 20));
        // the caller gave up and released; the body goes on and takes the lock
        await m.runExclusive(async () => {});
        bodyDone.resolve();
      }, 1).catch(() => {});
    });
    await bodyDone.promise;
  },
  "an async-mutex (compat) follow-up job queued inside runExclusive": async () => {
    const m = new CompatMutex();
    let follow: Promise<void> | undefined;
    await m.runExclusive(async () => {
      follow = m.runExclusive(async () => {});
    });
    await follow;
  },
};

async function crawl(concurrency: number): Promise<void> {
  const limit = pLimit(concurrency);
  const jobs: Promise<void>[] = [];
  const visit = (depth: number): Promise<void> =>
    limit(async () => {
      await tick();
      if (depth < 3) for (let i = 0; i < 2; i++) jobs.push(visit(depth + 1)); // children enqueued, not awaited
    });
  jobs.push(visit(0));
  // every job is in `jobs` before the one that made it finishes
  for (let seen = 0; seen < jobs.length; seen++) await jobs[seen];
}

for (const mode of ["production", "debug"] as const) {
  describe(`correct programs run to the end (${mode} mode)`, () => {
    for (const [name, program] of Object.entries(correct)) {
      it(name, async () => {
        configure({ mode });
        try {
          const { found } = await collecting(async () => {
            await program();
          });
          assert.deepEqual(
            found.filter((d) => d.certainty === "proven" || d.rule.startsWith("deadlock") || d.rule === "pool-exhaustion").map((d) => d.summary),
            [],
          );
        } finally {
          configure({ mode: "production" });
        }
      });
    }
  });
}

describe("true deadlocks", () => {
  it("debug mode: the seed's nested semaphore is proven at once", async () => {
    configure({ mode: "debug" });
    try {
      const sem = new Semaphore(1, { name: "sem" });
      const inner = () => sem.runExclusive(async () => "inner");
      const { found } = await collecting(async () => {
        const err = await sem.runExclusive(async () => await inner()).catch((e: unknown) => e);
        assert.ok(err instanceof DeadlockError && err.kind === "reentrant", String(err));
      });
      assert.equal(found.filter((d) => d.rule === "deadlock-reentrant" && d.certainty === "proven").length, 1);
    } finally {
      configure({ mode: "production" });
    }
  });

  it("production mode: p-limit#91's nested limit no longer exits silently: the drain throws a DeadlockError naming the limiter", () => {
    const fixture = fileURLToPath(new URL("./fixtures/nested-limit.ts", import.meta.url));
    const r = spawnSync(process.execPath, ["--import", "tsx", fixture], { encoding: "utf8", env: { ...process.env, ASYNCDOCTOR: "" } });
    assert.notEqual(r.status, 0, "an error, not a silent exit");
    assert.match(r.stderr, /DeadlockError/);
    assert.match(r.stderr, /limiter "test\/sync\/fixtures\/nested-limit.ts:6"/, "the limiter, named by where it was made");
    assert.doesNotMatch(r.stdout, /finished/);
  });

  it("production mode: nothing is thrown at the acquire; the drain proves it", () => {
    const fixture = fileURLToPath(new URL("./fixtures/two-lock-cycle.ts", import.meta.url));
    const r = spawnSync(process.execPath, ["--import", "tsx", fixture], { encoding: "utf8", env: { ...process.env, ASYNCDOCTOR: "" } });
    assert.match(r.stdout, /blocked without an error/);
    // caught by the program: its DeadlockError is its own to print (stderr stays quiet)
    assert.match(r.stdout, /DeadlockError: .*event loop is empty/);
    assert.doesNotMatch(r.stderr, /PROVEN deadlock/);
  });
});
