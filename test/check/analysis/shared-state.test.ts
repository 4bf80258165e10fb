import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ts from "typescript";
import { Ids, sharedTarget } from "../../../src/check/analysis/shared-state.js";
import { isFunctionNode } from "../../../src/check/analysis/own-flow.js";
import { load } from "./helpers.js";

/** For each `probe(expr)` call inside function `f`, whether `expr` is shared state seen from `f`. */
function probes(code: string): Record<string, boolean> {
  const { checker, main } = load(`declare function probe(x: unknown): void;\n${code}`);
  const ids = new Ids();
  const out: Record<string, boolean> = {};
  let fn: ts.Node | undefined;
  const visit = (n: ts.Node): void => {
    if (isFunctionNode(n) && (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && n.name?.getText() === "f") fn = n;
    if (ts.isCallExpression(n) && n.expression.getText() === "probe" && fn && isFunctionNode(fn)) {
      const arg = n.arguments[0]!;
      out[arg.getText()] = sharedTarget(arg, fn, checker, ids) !== undefined;
    }
    ts.forEachChild(n, visit);
  };
  visit(main);
  return out;
}

describe("shared-state", () => {
  it("module-level bindings and what they hold are shared; locals and parameters are not", () => {
    assert.deepEqual(
      probes(`let counter = 0;
const stats = { hits: 0 };
async function f(param: { n: number }) {
  const local = { n: 1 };
  let n = 0;
  probe(counter); probe(stats.hits); probe(param.n); probe(local.n); probe(n);
}`),
      { counter: true, "stats.hits": true, "param.n": false, "local.n": false, n: false },
    );
  });
  it("fields through this are shared", () => {
    assert.deepEqual(probes(`class C { balance = 0; async f() { probe(this.balance); probe(this); } }`), { "this.balance": true, this: false });
  });
  it("variables captured from an enclosing function are shared", () => {
    assert.deepEqual(
      probes(`function outer(start: number) {
  let count = start;
  async function f() { probe(count); probe(start); }
  return f;
}`),
      { count: true, start: true },
    );
  });
});
