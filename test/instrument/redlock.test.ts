import "../sync/with-await-graph.js";
// redlock instrumented at load: each resource key is a lock held by the async call that acquired
// it, and a knot of holders that each await an acquire of what another holds is reported on the
// keys, observed (every hold ends when its time to live runs out). Redlock runs on an in-memory
// stand-in for Redis that evaluates its three scripts; what redlock does is unchanged.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { collecting } from "../helpers.js";
import { installInstrumentations } from "../../src/instrument/index.js";
import type { InstalledInstrumentations } from "../../src/instrument/index.js";

// (redlock's own typings are not reachable through its package.json "exports")
interface Lock {
  readonly resources: string[];
  release(): Promise<unknown>;
  extend(duration: number): Promise<Lock>;
}
interface Redlock {
  acquire(resources: string[], duration: number): Promise<Lock>;
  using<T>(resources: string[], duration: number, routine: () => Promise<T>): Promise<T>;
}
type RedlockClass = new (clients: unknown[], settings: { retryCount: number; retryDelay: number; retryJitter: number }) => Redlock;

/** Redis as redlock uses it: `evalsha` (never cached here) and `eval` of its acquire, extend and release scripts. */
class MemoryRedis {
  readonly #keys = new Map<string, { value: string; until: number }>();
  #get(key: string): string | undefined {
    const e = this.#keys.get(key);
    if (e === undefined || e.until <= Date.now()) return undefined;
    return e.value;
  }
  async evalsha(): Promise<number> {
    throw new Error("NOSCRIPT No matching script.");
  }
  async eval(script: string, count: number, args: (string | number)[]): Promise<number> {
    const keys = args.slice(0, count).map(String);
    const [value, ttl] = [String(args[count]), Number(args[count + 1])];
    if (script.includes('"exists"')) {
      if (keys.some((k) => this.#get(k) !== undefined)) return 0;
      for (const k of keys) this.#keys.set(k, { value, until: Date.now() + ttl });
      return keys.length;
    }
    if (script.includes('"del"')) {
      let n = 0;
      for (const k of keys) {
        if (this.#get(k) === value) {
          this.#keys.delete(k);
          n++;
        }
      }
      return n;
    }
    if (keys.some((k) => this.#get(k) !== value)) return 0;
    for (const k of keys) this.#keys.set(k, { value, until: Date.now() + ttl });
    return keys.length;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("redlock instrumented at load", () => {
  let installed: InstalledInstrumentations;
  let Redlock: RedlockClass;
  before(() => {
    installed = installInstrumentations({ libraries: ["redlock"] });
    const require = createRequire(import.meta.url);
    Redlock = (require("redlock") as { default: RedlockClass }).default;
  });
  after(() => installed.uninstall());

  const make = () => new Redlock([new MemoryRedis()], { retryCount: -1, retryDelay: 5, retryJitter: 2 });

  it("two jobs taking two resources in opposite orders: deadlock-cycle on both keys, observed, until the time to live runs out", async () => {
    const redlock = make();
    const { found } = await collecting(async () => {
      const ledger = async () => {
        const a = await redlock.acquire(["res:ledger"], 150);
        await pause(10);
        const b = await redlock.acquire(["res:journal"], 150);
        await b.release();
        // `a` expired meanwhile: a release would retry for ever (retryCount -1)
        void a;
      };
      const journal = async () => {
        const b = await redlock.acquire(["res:journal"], 150);
        await pause(10);
        const a = await redlock.acquire(["res:ledger"], 150);
        await a.release();
        void b;
      };
      // the knot ends when the first holds expire: then both go on
      await Promise.all([ledger(), journal()]);
    });
    const knots = found.filter((d) => d.rule === "deadlock-cycle");
    assert.equal(knots.length, 1, found.map((d) => d.summary).join("\n"));
    const d = knots[0]!;
    assert.equal(d.certainty, "observed");
    assert.match(d.summary, /wait-for cycle on redlock locks "res:journal" and "res:ledger"|wait-for cycle on redlock locks "res:ledger" and "res:journal"/);
    assert.match(d.summary, /ledger\(\) waits at .*redlock\.test\.ts:\d+ for "res:journal", held by journal\(\)/);
    assert.match(d.summary, /time to live \(150 ms\)/);
    const names = d.subjects.map((s) => s.name);
    assert.ok(names.includes("res:ledger") && names.includes("res:journal"), names.join(", "));
    assert.match(d.site?.file ?? "", /redlock\.test\.ts$/);
    assert.match(d.fix, /redlock\.acquire\(\["res:journal", "res:ledger"\]/);
  });

  it("a holder awaiting another acquire of its own key: deadlock-reentrant, observed", async () => {
    const redlock = make();
    const { found } = await collecting(async () => {
      const refresh = async () => {
        const first = await redlock.acquire(["res:token"], 100);
        const second = await redlock.acquire(["res:token"], 100);
        await second.release();
        void first; // expired: what let the second acquire through
      };
      await refresh();
    });
    const d = found.filter((x) => x.rule === "deadlock-reentrant");
    assert.equal(d.length, 1, found.map((x) => x.summary).join("\n"));
    assert.equal(d[0]!.certainty, "observed");
    assert.match(d[0]!.summary, /refresh\(\) holds redlock lock "res:token" .* and awaits another acquire of it/);
  });

  it("stays silent for two jobs taking the resources in one order, a holder that waits on nobody, and a holder waiting for one", async () => {
    const redlock = make();
    const { found } = await collecting(async () => {
      const job = async (n: number) => {
        const a = await redlock.acquire(["res:ledger"], 1000);
        await pause(5);
        const b = await redlock.acquire(["res:journal"], 1000);
        await b.release();
        await a.release();
        return n;
      };
      // a holder that only sleeps, and a second caller that waits for it
      const slow = async () => {
        const l = await redlock.acquire(["res:report"], 1000);
        await pause(20);
        await l.release();
      };
      const waiter = async () => {
        await pause(2);
        const l = await redlock.acquire(["res:report"], 1000);
        await l.release();
      };
      // a holder that awaits a key whose holder awaits nothing of it: a wait, not a knot
      const reporter = async () => {
        const l = await redlock.acquire(["res:summary"], 1000);
        await pause(2);
        const r = await redlock.acquire(["res:report"], 1000);
        await r.release();
        await l.release();
      };
      assert.deepEqual(await Promise.all([job(1), job(2), slow(), waiter(), reporter()]), [1, 2, undefined, undefined, undefined]);
    });
    assert.deepEqual(
      found.map((d) => d.summary),
      [],
    );
  });

  it("keeps a hold through extend() and ends it at release(): a later acquire of the key is no knot", async () => {
    const redlock = make();
    const { found } = await collecting(async () => {
      const lock: Lock = await redlock.acquire(["res:extended"], 200);
      const longer = await lock.extend(400);
      assert.equal(longer.resources[0], "res:extended");
      await longer.release();
      const again = async () => {
        const l = await redlock.acquire(["res:extended"], 200);
        await l.release();
      };
      await again();
    });
    assert.deepEqual(
      found.map((d) => d.summary),
      [],
    );
  });

  it("changes nothing redlock does: its values and its errors are the same", async () => {
    const redlock = new Redlock([new MemoryRedis()], { retryCount: 2, retryDelay: 1, retryJitter: 0 });
    const held = await redlock.acquire(["res:busy"], 1000);
    assert.deepEqual(held.resources, ["res:busy"]);
    await assert.rejects(redlock.acquire(["res:busy"], 1000), (err: Error) => err.name === "ExecutionError" && /quorum/.test(err.message));
    assert.equal(await redlock.using(["res:free"], 1000, async () => "ran"), "ran");
    await held.release();
  });
});
