import { describe, it, afterEach } from "node:test";
import assert from "node:assert/strict";
import { configure, getConfig, isDebug } from "../../src/core/config.js";

describe("configure", () => {
  const saved = { ...getConfig() };
  afterEach(() => configure(saved));

  it("switches the mode", () => {
    configure({ mode: "debug" });
    assert.equal(isDebug(), true);
    configure({ mode: "production" });
    assert.equal(isDebug(), false);
  });
  it("rejects unknown keys and bad values without changing anything", () => {
    const before = { ...getConfig() };
    assert.throws(() => configure({ mdoe: "debug" } as never), { name: "TypeError", message: /unknown option "mdoe"/ });
    assert.throws(() => configure({ mode: "fast" as never }), { name: "TypeError", message: /options.mode/ });
    assert.throws(() => configure({ longWaitMs: -5 }), { name: "RangeError", message: /options.longWaitMs/ });
    assert.throws(() => configure({ onDiagnosis: 3 as never }), { name: "TypeError", message: /options.onDiagnosis/ });
    assert.throws(() => configure(null as never), { name: "TypeError" });
    assert.deepEqual({ ...getConfig() }, before);
  });
});
