import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Shared } from "../../src/sync/shared.js";
import { TaskGroup } from "../../src/tasks/task-group.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { collecting, deferred } from "../helpers.js";

const yieldOnce = () => new Promise<void>((r) => setImmediate(r));

/** Two tasks: "slow" reads, waits on a gate, writes; "fast" reads, writes, opens the gate. */
async function race(counter: Shared<number>, slowWrite: (v: number) => number = (v) => v + 1) {
  const gate = deferred();
  await TaskGroup.run(async (g) => {
    g.spawn(
      async () => {
        const v = counter.get();
        await gate.promise;
        counter.set(slowWrite(v));
      },
      { name: "slow" },
    );
    g.spawn(
      async () => {
        const v = counter.get();
        counter.set(v + 1);
        gate.resolve();
      },
      { name: "fast" },
    );
  });
}

describe("Shared: lost-update detection fires", () => {
  it("on read, await, write after another task's write, naming both tasks", async () => {
    const { found, result: counter } = await collecting(async () => {
      const counter = new Shared(0, { name: "counter" });
      await race(counter);
      return counter;
    });
    assert.equal(counter.get(), 1, "the race really lost an update");
    assert.deepEqual(
      found.map((d) => d.rule),
      ["lost-update"],
    );
    const d = found[0]!;
    assert.equal(d.certainty, "observed");
    assert.match(d.summary, /lost update on "counter": task "slow" read it, awaited, and wrote .* after task "fast" had changed it/);
    assert.ok(d.subjects.some((s) => s.kind === "task" && s.name === "fast" && s.role === "whose write was lost"));
    assert.match(d.fix, /read-modify-write of "counter" one atomic update/);
    assert.match(d.site?.file ?? "", /shared\.test\.ts$/, "the stale write's site is named even in production mode");
  });

  it("names the read site and both write sites when sites are captured", async () => {
    const { found } = await collecting(async () => race(new Shared(0, { name: "counter", captureSites: true })));
    const d = found[0]!;
    const read = d.subjects.find((s) => s.role === "the stale read");
    const lost = d.subjects.find((s) => s.role === "whose write was lost");
    assert.match(read?.site?.file ?? "", /shared\.test\.ts$/);
    assert.match(lost?.site?.file ?? "", /shared\.test\.ts$/);
    assert.notEqual(read!.site!.line, lost!.site!.line);
  });

  it("in the seed's counter: 20 tasks, read / yield / write", async () => {
    const { found, result } = await collecting(async () => {
      const counter = new Shared(0, { name: "counter" });
      await TaskGroup.run(async (g) => {
        for (let i = 0; i < 20; i++) {
          g.spawn(
            async () => {
              const v = counter.get();
              await yieldOnce();
              counter.set(v + 1);
            },
            { name: `inc-${i}` },
          );
        }
      });
      return counter.get();
    });
    assert.ok(result < 20, `updates were lost (${result})`);
    assert.equal(found.length, 1, "reported once per write site, not once per iteration");
    assert.equal(found[0]!.rule, "lost-update");
  });

  it("when another task set() while an async updater ran", async () => {
    const { found, result } = await collecting(async () => {
      const s = new Shared(10, { name: "balance" });
      const gate = deferred();
      const tracker = new TaskTracker();
      const updating = tracker.spawn(
        () =>
          s.update(async (v) => {
            await gate.promise;
            return v + 5;
          }),
        { name: "deposit" },
      );
      await tracker.spawn(
        async () => {
          s.set(0);
          gate.resolve();
        },
        { name: "reset" },
      );
      await updating;
      return s.get();
    });
    assert.equal(result, 15);
    assert.deepEqual(
      found.map((d) => d.rule),
      ["lost-update"],
    );
    assert.match(found[0]!.summary, /task "reset" set it while the async updater of task "deposit" was running/);
  });
});

describe("Shared: lost-update detection stays silent", () => {
  it("on update(), which serializes even async updaters", async () => {
    const { found, result } = await collecting(async () => {
      const counter = new Shared(0);
      await TaskGroup.run(async (g) => {
        for (let i = 0; i < 20; i++) {
          g.spawn(() =>
            counter.update(async (v) => {
              await yieldOnce();
              return v + 1;
            }),
          );
        }
      });
      return counter.get();
    });
    assert.equal(result, 20);
    assert.deepEqual(found, []);
  });

  it("when the value is read again after the await", async () => {
    const { found } = await collecting(async () => {
      const c = new Shared(0);
      const gate = deferred();
      await TaskGroup.run(async (g) => {
        g.spawn(async () => {
          c.get();
          await gate.promise;
          c.set(c.get() + 1);
        });
        g.spawn(async () => {
          c.set(c.get() + 1);
          gate.resolve();
        });
      });
      assert.equal(c.get(), 2);
    });
    assert.deepEqual(found, []);
  });

  it("on a blind write (no earlier read by that task)", async () => {
    const { found } = await collecting(async () => {
      const c = new Shared("idle");
      const gate = deferred();
      await TaskGroup.run(async (g) => {
        g.spawn(async () => {
          await gate.promise;
          c.set("stopped");
        });
        g.spawn(async () => {
          c.set("running");
          gate.resolve();
        });
      });
    });
    assert.deepEqual(found, []);
  });

  it("when nobody else wrote between the read and the write", async () => {
    const { found } = await collecting(async () => {
      const c = new Shared(0);
      await new TaskTracker().spawn(async () => {
        const v = c.get();
        await yieldOnce();
        c.set(v + 1);
        const w = c.get();
        await yieldOnce();
        c.set(w + 1);
      });
    });
    assert.deepEqual(found, []);
  });

  it("when the task's own earlier write is all that changed", async () => {
    const { found } = await collecting(async () => {
      const c = new Shared(0);
      await new TaskTracker().spawn(async () => {
        const v = c.get();
        c.set(v + 1);
        await yieldOnce();
        c.set(v + 2);
      });
    });
    assert.deepEqual(found, []);
  });

  it("when the other writes put back the value that was read", async () => {
    const { found, result } = await collecting(async () => {
      const gate = deferred();
      const d = new Shared(7, { name: "mode" });
      await TaskGroup.run(async (g) => {
        g.spawn(async () => {
          const v = d.get();
          await gate.promise;
          d.set(v * 2);
        });
        g.spawn(async () => {
          d.set(8);
          d.set(7);
          gate.resolve();
        });
      });
      return d.get();
    });
    assert.equal(result, 14);
    assert.deepEqual(found, [], "the read was not stale in value: nothing was lost");
  });

  it("without task identity (plain async functions under Promise.all): never guesses", async () => {
    const { found, result } = await collecting(async () => {
      const c = new Shared(0);
      await Promise.all(
        Array.from({ length: 5 }, async () => {
          const v = c.get();
          await yieldOnce();
          c.set(v + 1);
        }),
      );
      return c.get();
    });
    assert.ok(result < 5);
    assert.deepEqual(found, [], "no identity, no report: a false lost-update is worse than none");
  });
});

describe("Shared: values and bad input", () => {
  it("get/set/update/version", async () => {
    const s = new Shared({ n: 1 }, { name: "cfg" });
    assert.equal(s.name, "cfg");
    assert.deepEqual(s.get(), { n: 1 });
    s.set({ n: 2 });
    assert.equal(await s.update((v) => ({ n: v.n + 1 })).then((v) => v.n), 3);
    assert.equal(s.version, 2);
    assert.match(s.site?.file ?? "", /shared\.test\.ts$/);
  });

  it("an updater that throws or rejects leaves the value and lets later updates run", async () => {
    const s = new Shared(1);
    await assert.rejects(
      s.update(() => {
        throw new Error("no");
      }),
      /no/,
    );
    const failing = s.update(async () => {
      throw new Error("async no");
    });
    const after = s.update((v) => v + 1);
    await assert.rejects(failing, /async no/);
    assert.equal(await after, 2);
  });

  it("rejects a non-function updater, bad options and a non-string name", () => {
    const s = new Shared(0);
    assert.throws(() => s.update(5 as never), { code: "ERR_INVALID_ARG_TYPE", message: /"fn" argument must be a function\. Received type number \(5\)/ });
    assert.throws(() => new Shared(0, null as never), { code: "ERR_INVALID_ARG_TYPE", message: /"options"/ });
    assert.throws(() => new Shared(0, { name: 3 as never }), { code: "ERR_INVALID_ARG_TYPE", message: /"options\.name".*Received type number \(3\)/ });
    assert.throws(() => new Shared(0, { captureSites: "yes" as never }), { code: "ERR_INVALID_ARG_TYPE", message: /"options\.captureSites"/ });
  });
});
