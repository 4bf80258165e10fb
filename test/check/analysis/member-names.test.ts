import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ts from "typescript";
import { fixedName, memberNamesOf } from "../../../src/check/analysis/member-names.js";
import { isFunctionNode } from "../../../src/check/analysis/own-flow.js";
import { load } from "./helpers.js";

/** The names of every function of `code`, or "computed" where one cannot be told. */
function namesOf(code: string): string[] {
  const { main } = load(code);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (isFunctionNode(n)) {
      const names = new Set<string>();
      out.push(memberNamesOf(n, names) ? [...names].join("+") || "-" : "computed");
    }
    ts.forEachChild(n, visit);
  };
  visit(main);
  return out;
}

describe("member-names", () => {
  it("names a function by itself and by what it initialises", () => {
    assert.deepEqual(
      namesOf(`function a() {}
const b = () => {};
const c = function d() {};
class K { e() {} #f() {} g = async () => {}; "h i"() {} ["j"]() {} [Symbol.iterator]() {} }
const o = { k() {}, l: () => {} };`),
      ["a", "b", "d+c", "e", "#f", "g", "h i", "j", "-", "k", "l"],
    );
  });
  it("cannot name a member computed at run time", () => {
    assert.deepEqual(namesOf(`const key = "m"; class K { [key]() {} }`), ["computed"]);
  });
  it("a function passed or returned has no member name of its own", () => {
    assert.deepEqual(namesOf(`export const r = [1].map(() => 2);`), ["-"]);
  });
  it("fixedName: symbol-keyed members are reached by no property access", () => {
    const { main } = load(`class K { [Symbol.for("x")]() {} }`);
    const cls = main.statements[0] as ts.ClassDeclaration;
    assert.equal(fixedName(cls.members[0]!.name), null);
    assert.equal(fixedName(undefined), undefined);
  });
});
