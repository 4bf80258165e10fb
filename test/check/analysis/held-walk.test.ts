import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AcquireEvent } from "../../../src/check/analysis/held-walk.js";
import { anchorOf, walkHeld } from "../../../src/check/analysis/held-walk.js";
import { stubs } from "../stubs.js";
import type { CaseFiles } from "../rule-tester.js";
import { load } from "./helpers.js";

function events(code: string, files: CaseFiles = {}, registered = true): AcquireEvent[] {
  const { checker, sourceFiles } = load(code, { ...stubs("async-mutex"), ...files }, registered);
  const out: AcquireEvent[] = [];
  walkHeld(sourceFiles, checker, (e) => out.push(e));
  return out;
}

/** "file:line: lock [held…] via chain" for each waited acquire (file left out for main.ts), deduplicated (entries overlap). */
function describeEvents(code: string, files: CaseFiles = {}, registered = true): string[] {
  const seen = new Set<string>();
  for (const e of events(code, files, registered)) {
    const sf = e.use.call.getSourceFile();
    const line = sf.getLineAndCharacterOfPosition(e.use.call.getStart()).line + 1;
    const file = sf.fileName.endsWith("/main.ts") ? "" : `${sf.fileName.split("/").pop()}:`;
    const held = e.held.map((h) => h.ref.name).join(",");
    seen.add(`${file}${line}: ${e.ref.name} [${held}]${e.chain.length ? ` via ${e.chain.map((l) => l.name).join(">")}` : ""}`);
  }
  return [...seen].sort();
}

const prelude = `import { Mutex } from "async-mutex";
const a = new Mutex();
const b = new Mutex();
`;

describe("held-walk", () => {
  it("reports waited acquires with what is held, inline and through calls", () => {
    const got = describeEvents(`${prelude}async function inner() { await b.runExclusive(() => 1); }
export async function outer() { await a.runExclusive(async () => { await inner(); }); }`);
    assert.deepEqual(got, ["4: b []", "4: b [a] via inner", "5: a []"]);
  });
  it("carries nothing into work the holder does not wait for", () => {
    const got = describeEvents(`${prelude}async function inner() { await b.runExclusive(() => 1); }
export async function outer() { await a.runExclusive(async () => { void inner(); }); }`);
    // inner() is still followed (it takes a lock of its own), but with nothing held
    assert.deepEqual(got, ["4: b []", "4: b [] via inner", "5: a []"]);
  });
  it("holds a handle acquire until its release", () => {
    const got = describeEvents(`${prelude}export async function f() {
  const release = await a.acquire();
  await b.runExclusive(() => 1);
  release();
  await b.runExclusive(() => 2);
}`);
    assert.deepEqual(got, ["5: a []", "6: b [a]", "8: b []"]);
  });
  it("anchors a finding in the holder's own code", () => {
    const { checker, sourceFiles, main } = load(
      `${prelude}async function inner() { await b.runExclusive(() => 1); }
export async function outer() { await a.runExclusive(async () => { await inner(); }); }`,
      stubs("async-mutex"),
    );
    const list: AcquireEvent[] = [];
    walkHeld(sourceFiles, checker, (e) => list.push(e));
    const e = list.find((x) => x.held.length === 1)!;
    const anchor = anchorOf(e, e.held[0]!);
    assert.equal(anchor.getText(main), "inner()");
  });
  it("computes the walk once per program and replays it", () => {
    const { checker, sourceFiles } = load(`${prelude}export async function f() { await a.runExclusive(() => b.runExclusive(() => 1)); }`, stubs("async-mutex"));
    const first: AcquireEvent[] = [];
    const second: AcquireEvent[] = [];
    walkHeld(sourceFiles, checker, (e) => first.push(e));
    walkHeld(sourceFiles, checker, (e) => second.push(e));
    assert.equal(first.length, second.length);
    first.forEach((e, i) => assert.equal(e, second[i]));
  });
});

// With the program's files known, the walk skips resolving a method call that no lock-taking
// function is named like (and the shapes, one no candidate is named like). Each case is walked
// both ways: the events must be the same, and must include the function entered through the
// call (by a name other than its own, for the exports).
describe("held-walk: skipping calls by name changes no event", () => {
  const lib = `import { Mutex } from "async-mutex";
export const m = new Mutex();
async function locked<T>(fn: () => Promise<T>): Promise<T> { return m.runExclusive(fn); }
export { locked as run };
export default locked;
export class Store {
  private readonly lock = new Mutex();
  async update(fn: () => Promise<void>): Promise<void> { await this.lock.runExclusive(fn); }
  async ["quoted"](fn: () => Promise<void>): Promise<void> { await this.lock.runExclusive(fn); }
  async [Symbol.asyncDispose](): Promise<void> { await this.lock.runExclusive(async () => {}); }
}
`;
  const cases: { name: string; code: string; expect: string }[] = [
    {
      name: "a renamed export reached through a namespace import",
      code: `${prelude}import * as ns from "./lib.js";
export async function f() { await ns.run(async () => { await b.runExclusive(async () => {}); }); }`,
      expect: "lib.ts:3: m [] via locked",
    },
    {
      name: "a default export reached as `default`",
      code: `${prelude}import * as ns from "./lib.js";
export async function f() { await ns.default(async () => { await b.runExclusive(async () => {}); }); }`,
      expect: "lib.ts:3: m [] via locked",
    },
    {
      name: "a method with a quoted name",
      code: `${prelude}import { Store } from "./lib.js";
export async function f(s: Store) { await s.quoted(async () => { await b.runExclusive(async () => {}); }); }`,
      expect: "lib.ts:9: s.lock [] via",
    },
    {
      name: "a method called by its own name, among calls named like nothing",
      code: `${prelude}import { Store } from "./lib.js";
export async function f(s: Store, xs: number[]) {
  xs.map((x) => x + 1).filter(Boolean);
  await s.update(async () => { await b.runExclusive(async () => {}); });
}`,
      expect: "lib.ts:8: s.lock [] via Store.update",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const fast = describeEvents(c.code, { "lib.ts": lib });
      const full = describeEvents(c.code, { "lib.ts": lib }, false);
      assert.deepEqual(fast, full);
      assert.ok(
        fast.some((e) => e.startsWith(c.expect)),
        `expected an event "${c.expect}…" in ${JSON.stringify(fast)}`,
      );
    });
  }
  it("stays silent, both ways, where the callback takes nothing", () => {
    const code = `${prelude}import { Store } from "./lib.js";
export async function f(s: Store, xs: string[]) {
  xs.map((x) => x.trim());
  await s.update(async () => { xs.push("done"); });
}`;
    const fast = describeEvents(code, { "lib.ts": lib });
    assert.deepEqual(fast, describeEvents(code, { "lib.ts": lib }, false));
    assert.ok(!fast.some((e) => !e.startsWith("lib.ts:")), JSON.stringify(fast));
  });
});
