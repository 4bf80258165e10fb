import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AbortError, AsyncDoctorError, ClosedError, DeadlockError, ReleaseError, TimeoutError } from "../../src/core/errors.js";
import { ReleaseError as LeaseReleaseError } from "../../src/sync/lease.js";
import { Mutex } from "../../src/sync/mutex.js";
import { TaskGroup } from "../../src/tasks/task-group.js";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { untilAborted } from "../helpers.js";

const diagnosis: Diagnosis = {
  rule: "deadlock-cycle",
  certainty: "proven",
  summary: "a waits for b",
  subjects: [],
  fix: "take them in one order",
  id: "d1",
  time: 0,
};

describe("the error family", () => {
  const cases: Array<[string, AsyncDoctorError, string, string]> = [
    ["DeadlockError", new DeadlockError("cycle", diagnosis), "DeadlockError", "ASYNCDOCTOR_DEADLOCK"],
    ["TimeoutError", new TimeoutError("load", 5, 6, diagnosis), "TimeoutError", "ASYNCDOCTOR_TIMEOUT"],
    ["ClosedError", new ClosedError("closed"), "ClosedError", "ASYNCDOCTOR_CLOSED"],
    ["AbortError", new AbortError(), "AbortError", "ABORT_ERR"],
    ["ReleaseError", new ReleaseError("twice"), "ReleaseError", "ASYNCDOCTOR_BAD_RELEASE"],
  ];
  for (const [label, err, name, code] of cases) {
    it(`${label} is an AsyncDoctorError with name ${name} and code ${code}`, () => {
      assert.ok(err instanceof AsyncDoctorError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, name);
      assert.equal(err.code, code);
    });
  }

  it("errors for a finding carry it, with its summary as the default message", () => {
    const e = new DeadlockError("cycle", diagnosis);
    assert.equal(e.diagnosis, diagnosis);
    assert.equal(e.message, "a waits for b");
    assert.equal(new TimeoutError("load", 5, 6, diagnosis, "custom").message, "custom");
  });

  it("errors that stand for no finding carry none", () => {
    assert.equal(new ClosedError("closed").diagnosis, undefined);
    assert.equal(new AbortError().diagnosis, undefined);
  });

  it("AbortError keeps its cause", () => {
    const cause = new Error("stop");
    assert.equal(new AbortError("aborted", { cause }).cause, cause);
    assert.equal("cause" in new AbortError(), false, "no cause property when none was given");
  });

  it("lease.ts re-exports the one ReleaseError, and a double release throws it", async () => {
    assert.equal(LeaseReleaseError, ReleaseError);
    const lease = await new Mutex({ name: "m" }).acquire();
    lease.release();
    assert.throws(
      () => lease.release(),
      (e: unknown) => e instanceof ReleaseError && e instanceof AsyncDoctorError,
    );
  });

  it("a group aborts its tasks with the one AbortError, the failure as its cause", async () => {
    let seen: unknown;
    const failure = new Error("first");
    await assert.rejects(
      TaskGroup.run(async (group) => {
        group.spawn(async (signal) => {
          try {
            await untilAborted(signal);
          } catch (e) {
            seen = e;
          }
        });
        group.spawn(async () => {
          await Promise.resolve();
          throw failure;
        });
      }),
    );
    assert.ok(seen instanceof AbortError);
    assert.equal(seen.cause, failure);
  });

  it("a group aborted by hand gives an AbortError too", async () => {
    let seen: unknown;
    await TaskGroup.run(async (group) => {
      group.spawn(async (signal) => {
        try {
          await untilAborted(signal);
        } catch (e) {
          seen = e;
        }
      });
      group.abort();
    });
    assert.ok(seen instanceof AbortError);
    assert.match((seen as Error).message, /was aborted/);
  });
});
