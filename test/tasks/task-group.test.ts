import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TaskGroup, TaskGroupError } from "../../src/tasks/task-group.js";
import { ClosedError } from "../../src/core/errors.js";
import { collecting, deferred, nextMacrotask, untilAborted } from "../helpers.js";

describe("TaskGroup", () => {
  it("waits for all of its tasks and returns the body's result", async () => {
    const done: number[] = [];
    const result = await TaskGroup.run(async (group) => {
      for (let i = 0; i < 5; i++) {
        group.spawn(async () => {
          await Promise.resolve();
          done.push(i);
        });
      }
      return "body";
    });
    assert.equal(result, "body");
    assert.deepEqual(done.sort(), [0, 1, 2, 3, 4]);
  });

  it("aborts the siblings at the first failure and reports every failure, none lost", async () => {
    const siblingSaw: unknown[] = [];
    await assert.rejects(
      TaskGroup.run(
        async (group) => {
          group.spawn(
            async () => {
              await Promise.resolve();
              throw new Error("first");
            },
            { name: "a" },
          );
          group.spawn(
            async () => {
              await Promise.resolve();
              throw new RangeError("second");
            },
            { name: "b" },
          );
          group.spawn(
            async (signal) => {
              try {
                await untilAborted(signal);
              } catch (e) {
                siblingSaw.push(e);
                throw e;
              }
            },
            { name: "sibling" },
          );
        },
        { name: "batch" },
      ),
      (err: unknown) => {
        assert.ok(err instanceof TaskGroupError);
        assert.ok(err instanceof AggregateError);
        assert.deepEqual(
          err.failures.map((f) => f.task),
          ["a", "b"],
        );
        assert.equal(err.errors.length, 2);
        assert.match(err.message, /2 task\(s\) failed in group "batch":\n {2}- task "a": Error: first\n {2}- task "b": RangeError: second/);
        return true;
      },
    );
    assert.equal(siblingSaw.length, 1, "the sibling was aborted, and its abort is not counted as a failure");
  });

  it("counts a sibling that fails with its own error after the abort", async () => {
    await assert.rejects(
      TaskGroup.run(async (group) => {
        group.spawn(
          async () => {
            throw new Error("root cause");
          },
          { name: "x" },
        );
        group.spawn(
          async (signal) => {
            await untilAborted(signal).catch(() => {});
            throw new Error("cleanup failed");
          },
          { name: "y" },
        );
      }),
      (err: unknown) => err instanceof TaskGroupError && err.failures.length === 2,
    );
  });

  it("includes a failure of the body itself and still waits for the tasks", async () => {
    let childFinished = false;
    await assert.rejects(
      TaskGroup.run(async (group) => {
        group.spawn(async (signal) => {
          await untilAborted(signal).catch(() => {});
          childFinished = true;
        });
        throw new Error("body broke");
      }),
      (err: unknown) => err instanceof TaskGroupError && /<group body>.*body broke/.test(err.message),
    );
    assert.equal(childFinished, true);
  });

  it("works with await using, and closes afterwards", async () => {
    const gate = deferred();
    let group!: TaskGroup;
    const run = async () => {
      await using g = new TaskGroup({ name: "scoped" });
      group = g;
      g.spawn(() => gate.promise);
      g.spawn(async () => {});
    };
    const p = run();
    gate.resolve();
    await p;
    assert.equal(group.closed, true);
    assert.throws(
      () => group.spawn(async () => {}, { name: "late" }),
      (e: unknown) => e instanceof ClosedError && /group "scoped" is closed: cannot spawn "late"/.test(e.message),
    );
  });

  it("nests: an inner group's failure is one failure of the outer task", async () => {
    await assert.rejects(
      TaskGroup.run(
        async (outer) => {
          outer.spawn(
            () =>
              TaskGroup.run(
                async (inner) => {
                  inner.spawn(
                    async () => {
                      throw new Error("deep");
                    },
                    { name: "leaf" },
                  );
                },
                { name: "inner" },
              ),
            { name: "inner-runner" },
          );
        },
        { name: "outer" },
      ),
      (err: unknown) => {
        assert.ok(err instanceof TaskGroupError);
        assert.equal(err.failures[0]!.task, "inner-runner");
        const innerErr = err.failures[0]!.error;
        assert.ok(innerErr instanceof TaskGroupError);
        assert.equal(innerErr.failures[0]!.task, "leaf");
        assert.match(err.message, /inner-runner.*\n.*leaf.*deep/);
        return true;
      },
    );
  });

  it("is aborted by an outside signal", async () => {
    const ac = new AbortController();
    const p = TaskGroup.run(
      async (group) => {
        group.spawn((signal) => untilAborted(signal));
      },
      { signal: ac.signal },
    );
    ac.abort(new Error("stop all"));
    await p; // cancelled tasks are not failures
  });

  it("never produces task-failed reports: the group owns its failures", async () => {
    const { found } = await collecting(async () => {
      await TaskGroup.run(async (group) => {
        group.spawn(async () => {
          throw new Error("owned");
        });
      }).catch(() => {});
      await nextMacrotask();
    });
    assert.deepEqual(found, []);
  });

  it("rejects bad input", () => {
    assert.throws(() => new TaskGroup({ name: 1 as never }), { name: "TypeError", message: /"options.name"/ });
    assert.throws(() => new TaskGroup({ signal: "x" as never }), { name: "TypeError", message: /"options.signal"/ });
    assert.throws(() => new TaskGroup().spawn(undefined as never), {
      name: "TypeError",
      message: /"task" argument must be a function or a promise. Received undefined/,
    });
    return assert.rejects(TaskGroup.run("nope" as never), { name: "TypeError", message: /"body" argument must be a function/ });
  });
});
