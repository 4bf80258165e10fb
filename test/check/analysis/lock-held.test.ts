import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ts from "typescript";
import { ReferenceIndex } from "../../../src/check/analysis/call-graph.js";
import { LockHeld } from "../../../src/check/analysis/lock-held.js";
import { stubs } from "../stubs.js";
import { load } from "./helpers.js";

/** Whether a lock is held at each `mark()` call of main.ts (from the start of its statement). */
function marks(code: string): boolean[] {
  const { checker, main, sourceFiles } = load(`declare function mark(): void;\n${code}`, stubs("async-mutex", "p-limit"));
  const held = new LockHeld(checker, new ReferenceIndex(sourceFiles, checker));
  const out: boolean[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && n.expression.getText() === "mark") out.push(held.heldAcross(n.getStart(), n));
    ts.forEachChild(n, visit);
  };
  visit(main);
  return out;
}

describe("lock-held", () => {
  it("inside runExclusive, inside acquire()…release(), not after", () => {
    assert.deepEqual(
      marks(`import { Mutex } from "async-mutex";
const m = new Mutex();
export async function f() {
  mark();
  await m.runExclusive(async () => { mark(); });
  const release = await m.acquire();
  mark();
  release();
  mark();
}`),
      [false, true, true, false],
    );
  });
  it("in a function every caller calls under a lock, not when one caller does not", () => {
    assert.deepEqual(
      marks(`import { Mutex } from "async-mutex";
const m = new Mutex();
async function always() { mark(); }
async function sometimes() { mark(); }
export async function a() { await m.runExclusive(() => always()); await m.runExclusive(sometimes); }
export async function b() { await sometimes(); }`),
      [true, false],
    );
  });
  it("a limiter that admits several at once holds nothing exclusive", () => {
    assert.deepEqual(
      marks(`import pLimit from "p-limit";
const one = pLimit(1);
const four = pLimit(4);
export async function f() { await one(async () => { mark(); }); await four(async () => { mark(); }); }`),
      [true, false],
    );
  });
});
