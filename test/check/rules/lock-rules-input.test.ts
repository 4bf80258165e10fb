import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lockOrder } from "../../../src/check/rules/lock-order.js";
import { nestedAcquire } from "../../../src/check/rules/nested-acquire.js";
import { poolNestedAcquire } from "../../../src/check/rules/pool-nested-acquire.js";
import { readAwaitWrite } from "../../../src/check/rules/read-await-write.js";
import { runRule } from "../rule-tester.js";
import { stubs } from "../stubs.js";

const broken = [
  `import { Mutex } from "async-mutex";\nconst m = new Mutex();\nexport async function f() {\n  await m.runExclusive(async () => {\n    await m.runExclusive(`,
  `import { Pool } from "pg";\nconst pool = new Pool();\nasync function g( {\n  const client = await pool.connect(;\n  await pool.query("x"`,
  `let counter = 0;\nexport async function inc() {\n  const v = counter\n  await\n  counter = v +\n`,
  `class { async m() { this. = await x; } }\nawait using = ;\nfor await (const of) {}`,
  `const limit = pLimit(;\nexport const f = async () => limit(limit(limit(`,
];

describe("lock rules on sources that do not parse", () => {
  for (const rule of [nestedAcquire, lockOrder, poolNestedAcquire, readAwaitWrite]) {
    it(`${rule.meta.id} checks what it can and never throws`, () => {
      for (const code of broken) {
        const found = runRule(rule, { code, files: stubs("async-mutex", "pg", "p-limit") });
        assert.ok(Array.isArray(found));
        for (const f of found) assert.ok(f.summary.length > 0 && f.fix.length > 0);
      }
    });
  }
});

describe("lock rules: the locks and pools options", () => {
  const cases = [
    [nestedAcquire, "locks"],
    [lockOrder, "locks"],
    [lockOrder, "pools"],
    [poolNestedAcquire, "pools"],
  ] as const;
  for (const [rule, option] of cases) {
    it(`${rule.meta.id}: ${option} must be an array of type names`, () => {
      for (const bad of ["Db", [1], { Db: true }, null]) {
        assert.throws(
          () => runRule(rule, { code: "export {};", options: { [option]: bad } }),
          (err: unknown) => err instanceof TypeError && err.message.includes(`rules.${rule.meta.id}.options.${option}`),
        );
      }
    });
  }
  it("nested-acquire: a lock type of the program named in locks", () => {
    const code = `class KeyedLock { async runExclusive<T>(fn: () => Promise<T>): Promise<T> { return fn(); } }
const lock = new KeyedLock();
export async function f() { await lock.runExclusive(async () => { await lock.runExclusive(async () => 1); }); }`;
    assert.equal(runRule(nestedAcquire, { code }).length, 0);
    assert.equal(runRule(nestedAcquire, { code, options: { locks: ["KeyedLock"] } }).length, 1);
  });
});
