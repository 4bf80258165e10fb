import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isWaited } from "../../../src/check/analysis/waited.js";
import { callsStarting, load } from "./helpers.js";

function waited(body: string): boolean {
  const { checker, main } = load(`declare function op(): Promise<number>;\nexport async function f() {\n${body}\n}`);
  const call = callsStarting(main, "op(")[0];
  assert.ok(call);
  return isWaited(call, checker);
}

describe("waited", () => {
  it("counts what the function waits for", () => {
    assert.equal(waited("await op();"), true);
    assert.equal(waited("return op();"), true);
    assert.equal(waited("await Promise.all([op(), op()]);"), true);
    assert.equal(waited("await op().then((x) => x + 1);"), true);
    assert.equal(waited("const p = op(); await p;"), true);
    assert.equal(waited("await (op() as Promise<number>);"), true);
    assert.equal(waited("const r = await (Math.random() > 0.5 ? op() : Promise.resolve(0)); return r;"), true);
  });
  it("does not count what it lets run on", () => {
    assert.equal(waited("void op();"), false);
    assert.equal(waited("op().catch(() => {});"), false);
    assert.equal(waited("const p = op(); return 1;"), false);
    assert.equal(waited("setTimeout(() => { void op(); }, 1);"), false);
    assert.equal(waited("const all = [op()]; return all.length;"), false);
  });
  it("an arrow's expression body is what the arrow returns", () => {
    assert.equal(waited("const g = () => op(); await g();"), true);
  });
});
