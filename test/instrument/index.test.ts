// installInstrumentations: argument errors, the choice of libraries, uninstall, and the ESM
// wrapper the load hooks put in front of a package.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configure } from "../../src/core/config.js";
import { installInstrumentations, instrumentableLibraries } from "../../src/instrument/index.js";
import { wrapperSource } from "../../src/instrument/loader.js";
import { collecting } from "../tasks/helpers.js";

describe("installInstrumentations", () => {
  it("lists the libraries it can instrument", () => {
    assert.deepEqual([...instrumentableLibraries].sort(), [
      "async-lock",
      "async-mutex",
      "generic-pool",
      "knex",
      "mysql2",
      "p-limit",
      "pg",
      "redlock",
      "sequelize",
      "typeorm",
    ]);
  });

  it("rejects options that are not an object", () => {
    assert.throws(() => installInstrumentations(null as never), {
      name: "TypeError",
      code: "ERR_INVALID_ARG_TYPE",
      message: /"options" argument must be an object/,
    });
  });

  it("rejects libraries that are not an array", () => {
    assert.throws(() => installInstrumentations({ libraries: "pg" as never }), {
      name: "TypeError",
      code: "ERR_INVALID_ARG_TYPE",
      message: /"options.libraries" argument must be an array of package names. Received type string \("pg"\)/,
    });
  });

  it("rejects a library name that is not a string", () => {
    assert.throws(() => installInstrumentations({ libraries: [1 as never] }), {
      name: "TypeError",
      code: "ERR_INVALID_ARG_TYPE",
      message: /"options.libraries\[0\]"/,
    });
  });

  it("rejects a package it does not know, naming the ones it does", () => {
    assert.throws(() => installInstrumentations({ libraries: ["pg", "mongoose"] }), {
      name: "RangeError",
      code: "ERR_OUT_OF_RANGE",
      message:
        /"options.libraries\[1\]" is out of range. It must be one of pg, knex, mysql2, generic-pool, async-mutex, async-lock, p-limit, redlock, sequelize, typeorm. Received type string \("mongoose"\)/,
    });
  });

  it("instruments only the libraries asked for, and nothing after uninstall", async () => {
    const installed = installInstrumentations({ libraries: ["p-limit"] });
    assert.deepEqual(installed.libraries, ["p-limit"]);
    assert.equal(installed.importProblem, undefined, "import is instrumented on this Node.js");
    try {
      const am = await import("async-mutex");
      const m = new am.Mutex();
      assert.equal(Object.hasOwn(m, "acquire"), false, "async-mutex was not asked for: its Mutex is untouched");
      const pLimit = (await import("p-limit")).default;
      const limit = pLimit(1);
      assert.equal(await limit(() => "ran"), "ran");
      // debug mode proves it at once (production mode would wait for the drain)
      configure({ mode: "debug" });
      const seen = await limit(() => limit(() => "inner"))
        .catch((e: unknown) => (e as Error).name)
        .finally(() => configure({ mode: "production" }));
      assert.equal(seen, "DeadlockError", "p-limit was asked for: its limiter is watched");
    } finally {
      installed.uninstall();
    }
    // uninstalled: a new limiter is p-limit's own; a nested call just queues (and is dropped here), unreported
    const pLimit = (await import("p-limit")).default;
    const after = pLimit(1);
    const { result, found } = await collecting(() =>
      after(() => {
        void after(() => "never runs");
        after.clearQueue();
        return "outer";
      }),
    );
    assert.equal(result, "outer");
    assert.deepEqual(found, []);
  });
});

describe("the ESM wrapper module", () => {
  it("re-exports everything and replaces only the named exports, with default when the package has one", () => {
    const src = wrapperSource("p-limit", "file:///x/index.js", "module", { exports: ["limitFunction"], default: true });
    assert.match(src, /^import \* as real from "file:\/\/\/x\/index.js";$/m);
    assert.match(src, /^export \* from "file:\/\/\/x\/index.js";$/m);
    assert.match(src, /^export default out.default;$/m);
    assert.match(src, /^export const limitFunction = out\["limitFunction"\];$/m);
  });

  it("gives a package with no default export none", () => {
    const src = wrapperSource("async-mutex", "file:///x/index.mjs", "module", { exports: ["Mutex"], default: false });
    assert.doesNotMatch(src, /export default/);
  });

  it("a CommonJS package always has a default (its module.exports)", () => {
    const src = wrapperSource("knex", "file:///x/knex.js", "commonjs", { exports: ["knex"], default: false });
    assert.match(src, /^export default out.default;$/m);
  });
});
