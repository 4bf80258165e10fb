import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { validateTimeoutMs, validateInteger, validateFunction, validateString, validateSignal, describe as describeValue } from "../../src/core/validate.js";

describe("validate", () => {
  it("rejects a negative, NaN, infinite or non-number timeout with the argument's name", () => {
    assert.throws(() => validateTimeoutMs(-1, "timeout"), { name: "RangeError", code: "ERR_OUT_OF_RANGE", message: /"timeout".*> 0.*-1/ });
    assert.throws(() => validateTimeoutMs(NaN, "timeout"), { name: "RangeError", message: /"timeout".*NaN/ });
    assert.throws(() => validateTimeoutMs(Infinity, "timeout"), { name: "RangeError", message: /finite/ });
    assert.throws(() => validateTimeoutMs("5", "timeout"), { name: "TypeError", code: "ERR_INVALID_ARG_TYPE", message: /"timeout".*number.*string \("5"\)/ });
    assert.throws(() => validateTimeoutMs(0, "timeout"), { name: "RangeError" });
  });
  it("accepts valid durations", () => {
    validateTimeoutMs(1, "t");
    validateTimeoutMs(0, "t", { allowZero: true });
    validateTimeoutMs(Infinity, "t", { allowInfinity: true });
  });
  it("checks integers, functions, strings and signals", () => {
    assert.throws(() => validateInteger(1.5, "permits"), { name: "RangeError", message: /"permits".*integer >= 1.*1\.5/ });
    assert.throws(() => validateInteger(0, "permits"), { name: "RangeError" });
    assert.throws(() => validateFunction(42, "fn"), { name: "TypeError", message: /"fn" argument must be a function. Received type number \(42\)/ });
    assert.throws(() => validateString(Symbol("x"), "name"), { name: "TypeError", message: /"name".*symbol/ });
    assert.throws(() => validateSignal({}, "signal"), { name: "TypeError", message: /AbortSignal/ });
    validateSignal(undefined, "signal");
    validateSignal(new AbortController().signal, "signal");
  });
  it("describes received values briefly", () => {
    assert.equal(describeValue(null), "null");
    assert.equal(describeValue(new Map()), "an instance of Map");
    assert.match(describeValue("x".repeat(100)), /\.\.\."\)$/);
  });
});
