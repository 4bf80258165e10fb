import "../sync/with-await-graph.js";
// The await graph: what the transform records (this file is compiled by it: scripts/test.mjs
// preloads test/await-graph-setup.ts), what the graph answers, and what relies on it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blockedOn, chainOf, currentActivation } from "../../src/core/await-graph.js";
import { transformAwaits } from "../../src/diagnose/await-transform.js";
import { Mutex } from "../../src/sync/mutex.js";
import { Shared } from "../../src/sync/shared.js";
import { collecting, deferred } from "../helpers.js";

const here = "await-graph.test.ts";

describe("the await-graph transform", () => {
  it("records which activation awaits what, outermost first, with each await's own line", async () => {
    const gate = deferred();
    async function inner(): Promise<void> {
      await gate.promise;
    }
    async function outer(): Promise<void> {
      await inner();
    }
    const p = outer();
    await Promise.resolve();
    const chain = chainOf(p);
    assert.deepEqual(
      chain.map((l) => l.name),
      ["outer", "inner"],
    );
    assert.ok(chain.every((l) => l.file.endsWith(here)));
    assert.ok(chain[1]!.line > 0 && chain[0]!.line > chain[1]!.line, "each link is the line where it awaits");
    assert.equal(blockedOn(p, new Set()), false, "an unknown promise may settle");
    gate.resolve();
    await p;
  });

  it("a `return p` waits for p as an await does, and so does an expression-bodied arrow", async () => {
    const gate = deferred();
    const viaReturn = async () => {
      return gate.promise;
    };
    const viaExpression = async () => gate.promise;
    const a = viaReturn();
    const b = viaExpression();
    assert.equal(chainOf(a)[0]?.name, "viaReturn");
    assert.equal(chainOf(b)[0]?.name, "viaExpression");
    gate.resolve();
    await Promise.all([a, b]);
  });

  it("keeps stack traces on the lines of the source (the source map is shifted with the insertions)", async () => {
    async function thrower(): Promise<never> {
      await Promise.resolve();
      throw new Error("from thrower");
    }
    const err = (await thrower().catch((e: unknown) => e)) as Error;
    const line = Number(/await-graph\.test\.ts:(\d+):/.exec(err.stack ?? "")?.[1]);
    const expected = Number(/:(\d+):\d+\)?$/.exec(new Error().stack!.split("\n")[1]!)?.[1]) - 4;
    assert.equal(line, expected);
  });

  it("knows the async call that runs now, across awaits, returns and throws", async () => {
    const seen: (string | undefined)[] = [];
    async function child(fail: boolean): Promise<void> {
      seen.push(currentActivation()?.link().name);
      await Promise.resolve();
      seen.push(currentActivation()?.link().name);
      if (fail) throw new Error("x");
    }
    async function parent(): Promise<void> {
      await child(false);
      seen.push(currentActivation()?.link().name);
      await child(true).catch(() => {});
      seen.push(currentActivation()?.link().name);
    }
    await parent();
    assert.deepEqual(seen, ["child", "child", "parent", "child", "child", "parent"]);
  });

  it("leaves functions whose parameters run code alone, and sources that do not parse", () => {
    const out = transformAwaits({ source: "async function f(a = g()) { await a; }\nasync function h(b) { await b; }", file: "/x.js", format: "module" })!;
    assert.match(out, /async function f\(a = g\(\)\) \{ await a; \}/, "a default parameter: left as it is");
    assert.match(
      out,
      /async function h\(b\) \{var \$ad\$=__asyncdoctor\$\.enter\(\$ad\$f,1\);try\{ \$ad\$\.r\(await {2}\$ad\$\.a\(b,0\)\); \}finally\{\$ad\$\.x\(\)\}\}/,
    );
    assert.equal(transformAwaits({ source: "async function (", file: "/y.js", format: "module" }), undefined);
    assert.equal(transformAwaits({ source: "const x = 1;", file: "/z.js", format: "module" }), undefined, "nothing async: untouched");
  });

  it("wraps a parenthesized arrow body with its parentheses (an object literal stays one)", async () => {
    const make = async () => ({ id: 1 });
    const out = transformAwaits({ source: "const f = async () => ({ id: 1 });", file: "/p.js", format: "module" })!;
    assert.match(out, /return \$ad\$\.a\(\(\(\{ id: 1 \}\)\),0\);/);
    assert.deepEqual(await make(), { id: 1 });
  });

  it("keeps a function's directive prologue and an async generator's awaits as they are", () => {
    const out = transformAwaits({
      source: 'async function f() { "use strict"; await 1; }\nasync function* g() { await 2; yield 1; }',
      file: "/d.js",
      format: "commonjs",
    })!;
    assert.match(out, /async function f\(\) \{ "use strict";var \$ad\$=/);
    assert.match(out, /async function\* g\(\) \{ await 2; yield 1; \}/);
  });

  it("compiles CommonJS modules loaded with require()", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ad-cjs-"));
    const file = join(dir, "mod.cjs");
    writeFileSync(file, "exports.run = async function run(p) { await p; return 1; };\n");
    const mod = createRequire(import.meta.url)(file) as { run: (p: Promise<void>) => Promise<number> };
    const gate = deferred();
    const p = mod.run(gate.promise);
    assert.deepEqual(
      chainOf(p).map((l) => [l.name, l.line]),
      [["run", 1]],
    );
    gate.resolve();
    assert.equal(await p, 1);
  });
});

describe("what relies on the await graph", () => {
  it("a lost update on a Shared under plain Promise.all: each async call has an identity of its own", async () => {
    const counter = new Shared(0, { name: "counter" });
    async function increment(): Promise<void> {
      const v = counter.get();
      await Promise.resolve();
      counter.set(v + 1);
    }
    const { found } = await collecting(async () => {
      await Promise.all([increment(), increment()]);
    });
    assert.equal(counter.get(), 1, "one increment was lost");
    const lost = found.filter((d) => d.rule === "lost-update");
    assert.equal(lost.length, 1);
    assert.match(lost[0]!.summary, /increment\(\)/);
  });

  it("and no lost update when the same increments run one after the other", async () => {
    const counter = new Shared(0, { name: "counter2" });
    async function increment(): Promise<void> {
      const v = counter.get();
      await Promise.resolve();
      counter.set(v + 1);
    }
    const { found } = await collecting(async () => {
      await increment();
      await increment();
    });
    assert.equal(counter.get(), 2);
    assert.deepEqual(found, []);
  });

  it("names the holder of a bare acquire() by the async call that holds it", async () => {
    const m = new Mutex({ name: "bare" });
    async function holdIt(): Promise<() => void> {
      const lease = await m.acquire();
      return () => lease.release();
    }
    const release = await holdIt();
    const err = await m.acquire({ timeout: 5 }).catch((e: unknown) => e);
    assert.match((err as Error).message, /held by "holdIt\(\) at test\/core\/await-graph\.test\.ts:\d+"/);
    release();
  });
});
