import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ts from "typescript";
import { LockResolver } from "../../../src/check/analysis/lock-identity.js";
import { stubs } from "../stubs.js";
import { load } from "./helpers.js";

/** Resolves every `x.runExclusive` receiver in main.ts, in source order, with one fresh frame per function. */
function keys(code: string): string[] {
  const { checker, main } = load(code, stubs("async-mutex"));
  const r = new LockResolver(checker);
  const frames = new Map<ts.Node, ReturnType<LockResolver["newFrame"]>>();
  const out: string[] = [];
  const visit = (n: ts.Node, fn: ts.Node | undefined): void => {
    if (ts.isFunctionLike(n)) fn = n;
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === "runExclusive") {
      let f = frames.get(fn ?? main);
      if (!f) frames.set(fn ?? main, (f = r.newFrame()));
      out.push(r.resolve(n.expression.expression, f).key);
    }
    ts.forEachChild(n, (c) => visit(c, fn));
  };
  visit(main, undefined);
  return out;
}

describe("lock identity", () => {
  it("a module-level lock is one lock everywhere, an alias included", () => {
    const [a, b, c] = keys(`import { Mutex } from "async-mutex"; const m = new Mutex();
function f() { void m.runExclusive(() => 1); }
function g() { const alias = m; void alias.runExclusive(() => 1); }
function h() { void m.runExclusive(() => 1); }`);
    assert.equal(a, b);
    assert.equal(a, c);
  });
  it("different bindings are different locks", () => {
    const [a, b] = keys(`import { Mutex } from "async-mutex"; const m1 = new Mutex(); const m2 = new Mutex();
void m1.runExclusive(() => 1); void m2.runExclusive(() => 1);`);
    assert.notEqual(a, b);
  });
  it("a lock created inside a function is a new lock on each call (frame)", () => {
    const [a, b] = keys(`import { Mutex } from "async-mutex";
function f() { const m = new Mutex(); void m.runExclusive(() => 1); }
function g() { const m = new Mutex(); void m.runExclusive(() => 1); }`);
    assert.notEqual(a, b);
  });
  it("this.field is one lock for the methods of a class; another object's field is not", () => {
    const [a, b, c] = keys(`import { Mutex } from "async-mutex";
class A {
  lock = new Mutex();
  x() { void this.lock.runExclusive(() => 1); }
  y() { void this.lock.runExclusive(() => 1); }
  z(other: A) { void other.lock.runExclusive(() => 1); }
}`);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });
  it("an element access or a call result is never equal to anything", () => {
    const [a, b] = keys(`import { Mutex } from "async-mutex"; const locks = [new Mutex()];
void locks[0]!.runExclusive(() => 1); void locks[0]!.runExclusive(() => 1);`);
    assert.notEqual(a, b);
  });
});
