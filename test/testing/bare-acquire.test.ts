// A test that takes a bare acquire() (outside every task) and never releases it fails the leak
// check; one that releases passes. (The real lock registry: no stand-in "locks" section here.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { leakCheck, LeakError } from "../../src/testing/index.js";
import { Mutex } from "../../src/sync/mutex.js";
import { Semaphore } from "../../src/sync/semaphore.js";

describe("leakCheck() and bare acquires", () => {
  it("fails a test that takes a bare acquire() and never releases it; passes one that releases", async () => {
    const mutex = new Mutex({ name: "bare-accounts" });
    let lease: Awaited<ReturnType<Mutex["acquire"]>> | undefined;
    await assert.rejects(
      leakCheck(
        async () => {
          lease = await mutex.acquire();
        },
        { name: "forgets the release" },
      )(),
      (err: unknown) => {
        assert.ok(err instanceof LeakError);
        assert.deepEqual(
          err.diagnoses.map((d) => d.rule),
          ["leaked-lock"],
        );
        assert.match(err.message, /mutex "bare-accounts" was still held by "<unknown task>" when test "forgets the release" ended/);
        return true;
      },
    );
    lease?.release();
    await leakCheck(
      async () => {
        const l = await mutex.acquire();
        l.release();
      },
      { name: "releases" },
    )();
  });

  it("a bare acquire released by code outside the test that made it still counts as released", async () => {
    const sem = new Semaphore(2, { name: "bare-slots" });
    let lease: Awaited<ReturnType<Semaphore["acquire"]>> | undefined;
    const release = new Promise<void>((r) =>
      setImmediate(() => {
        lease?.release();
        r();
      }),
    );
    await leakCheck(
      async () => {
        lease = await sem.acquire();
        await release;
      },
      { name: "released from a callback" },
    )();
  });
});
