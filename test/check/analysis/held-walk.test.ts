import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AcquireEvent } from "../../../src/check/analysis/held-walk.js";
import { anchorOf, walkHeld } from "../../../src/check/analysis/held-walk.js";
import { stubs } from "../stubs.js";
import { load } from "./helpers.js";

function events(code: string): AcquireEvent[] {
  const { checker, sourceFiles } = load(code, stubs("async-mutex"));
  const out: AcquireEvent[] = [];
  walkHeld(sourceFiles, checker, (e) => out.push(e));
  return out;
}

/** "line: lock [held…] via chain" for each waited acquire, deduplicated (entries overlap). */
function describeEvents(code: string): string[] {
  const seen = new Set<string>();
  for (const e of events(code)) {
    const sf = e.use.call.getSourceFile();
    const line = sf.getLineAndCharacterOfPosition(e.use.call.getStart()).line + 1;
    const held = e.held.map((h) => h.ref.name).join(",");
    seen.add(`${line}: ${e.ref.name} [${held}]${e.chain.length ? ` via ${e.chain.map((l) => l.name).join(">")}` : ""}`);
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
