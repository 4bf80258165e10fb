import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig, parseConfig } from "../../src/check/config.js";
import { optionErrors } from "../../src/check/rule.js";
import { rules } from "../../src/check/rules/index.js";
import { check } from "../../src/check/runner.js";
import { CLEAN, FLOATING, tempProject } from "./helpers.js";

describe("checker configuration", () => {
  it("defaults every rule to its own severity", () => {
    const c = parseConfig({}, rules, "x");
    assert.equal(c.rules["floating-promise"]?.severity, "error");
    assert.equal(c.rules["missing-timeout"]?.severity, "warning");
    assert.equal(c.failOn, "error");
  });

  it("reads severities and options", () => {
    const c = parseConfig(
      { rules: { "floating-promise": "warning", "missing-timeout": { severity: "error", options: { wrappers: ["deadline"] } } }, failOn: "warning" },
      rules,
      "x",
    );
    assert.equal(c.rules["floating-promise"]?.severity, "warning");
    assert.deepEqual(c.rules["missing-timeout"], { severity: "error", options: { wrappers: ["deadline"] } });
    assert.equal(c.failOn, "warning");
  });

  for (const [name, raw, pattern] of [
    ["not an object", [], /must be an object/],
    ["unknown key", { rulez: {} }, /unknown key "rulez"/],
    ["unknown rule", { rules: { "no-such-rule": "error" } }, /unknown rule "no-such-rule"; known rules: floating-promise/],
    ["bad severity", { rules: { "floating-promise": "fatal" } }, /severity must be one of error, warning, off, got "fatal"/],
    ["bad options", { rules: { "floating-promise": { options: 3 } } }, /"options" must be an object/],
    ["bad failOn", { failOn: "info" }, /"failOn" must be "error" or "warning"/],
    ["bad rule value", { rules: { "floating-promise": 1 } }, /expected a severity or \{ severity, options \}/],
  ] as const) {
    it(`rejects a configuration with ${name}`, () => {
      assert.throws(
        () => parseConfig(raw, rules, "cfg.json"),
        (e: unknown) => e instanceof ConfigError && pattern.test(e.message) && e.message.startsWith("cfg.json: "),
      );
    });
  }

  it("finds asyncdoctor.config.json upwards and package.json#asyncdoctor", () => {
    const dir = tempProject({
      "asyncdoctor.config.json": `{"rules":{"unclosed-resource":"off"}}`,
      "sub/package.json": `{"name":"x","asyncdoctor":{"rules":{"missing-timeout":"off"}}}`,
      "other/deep/x.txt": "",
    });
    assert.equal(loadConfig(`${dir}/other/deep`, rules).rules["unclosed-resource"]?.severity, "off");
    assert.equal(loadConfig(`${dir}/sub`, rules).rules["missing-timeout"]?.severity, "off");
  });

  it("reports a config file that is not JSON, naming the file", () => {
    const dir = tempProject({ "asyncdoctor.config.json": `{"rules": ` });
    assert.throws(
      () => loadConfig(dir, rules),
      (e: unknown) => e instanceof ConfigError && /asyncdoctor\.config\.json: is not valid JSON/.test(e.message),
    );
  });

  it("reports an explicit config file that does not exist", () => {
    const dir = tempProject({});
    assert.throws(() => loadConfig(dir, rules, "missing.json"), /does not exist/);
  });

  it("applies the configuration: off silences, warning does not fail under failOn error", () => {
    const off = tempProject({ "a.ts": FLOATING, "asyncdoctor.config.json": `{"rules":{"floating-promise":"off"}}` });
    assert.equal(check({ cwd: off, paths: ["a.ts"] }).diagnoses.length, 0);
    const warn = tempProject({ "a.ts": FLOATING, "asyncdoctor.config.json": `{"rules":{"floating-promise":"warning"}}` });
    const r = check({ cwd: warn, paths: ["a.ts"] });
    assert.equal(r.diagnoses.length, 1);
    assert.equal(r.diagnoses[0]!.data?.severity, "warning");
    assert.equal(r.failed, false);
    const strict = tempProject({ "a.ts": FLOATING, "asyncdoctor.config.json": `{"rules":{"floating-promise":"warning"},"failOn":"warning"}` });
    assert.equal(check({ cwd: strict, paths: ["a.ts"] }).failed, true);
  });

  it("checks each rule's options against its schema: a typo is a configuration problem (exit 2)", () => {
    const dir = tempProject({
      "a.ts": FLOATING,
      "asyncdoctor.config.json": `{"rules":{"missing-timeout":{"severity":"warning","options":{"wrapers":["download"]}},"floating-promise":{"severity":"error","options":{"keptTypes":[{"name":"Job"}]}}}}`,
    });
    const r = check({ cwd: dir, paths: ["a.ts"] });
    const messages = r.problems.filter((p) => p.kind === "config").map((p) => p.message);
    assert.deepEqual(messages.sort(), [
      'rule "floating-promise": options.keptTypes[0] is missing "package"',
      'rule "missing-timeout": options has an unknown key "wrapers" (expected one of: wrappers, clients)',
    ]);
    assert.ok(r.problems.every((p) => p.file.endsWith("asyncdoctor.config.json")));
    assert.equal(r.diagnoses.length, 1, "the rules still run");
  });

  it("accepts options that fit the schema", () => {
    const dir = tempProject({
      "a.ts": CLEAN,
      "asyncdoctor.config.json": `{"rules":{"missing-timeout":{"severity":"warning","options":{"wrappers":["download"]}},"unobserved-rejection":{"severity":"warning","options":{"checkVoid":false}}}}`,
    });
    assert.deepEqual(check({ cwd: dir, paths: ["a.ts"] }).problems, []);
  });
});

describe("optionErrors", () => {
  const schema = {
    type: "object",
    properties: { n: { type: "integer", minimum: 1 }, mode: { type: "string", enum: ["a", "b"] }, on: { type: "boolean" } },
    additionalProperties: false,
  } as const;
  it("names each wrong value with its path", () => {
    assert.deepEqual(optionErrors(schema, { n: 1.5, mode: "c", on: "yes" }, "options"), [
      "options.n must be an integer, got 1.5",
      'options.mode must be one of "a", "b", got "c"',
      'options.on must be a boolean, got "yes"',
    ]);
    assert.deepEqual(optionErrors(schema, { n: 0 }, "options"), ["options.n must be at least 1, got 0"]);
    assert.deepEqual(optionErrors(schema, [], "options"), ["options must be an object, got an array"]);
  });
  it("is silent on values that fit", () => {
    assert.deepEqual(optionErrors(schema, { n: 2, mode: "b", on: false }, "options"), []);
    assert.deepEqual(optionErrors(schema, {}, "options"), []);
  });
});
