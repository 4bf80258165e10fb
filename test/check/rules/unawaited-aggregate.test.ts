import { unawaitedAggregate } from "../../../src/check/rules/unawaited-aggregate.js";
import { ruleTester } from "../rule-tester.js";

const save = `async function save(x: string): Promise<void> { await null; void x; }\n`;

ruleTester(unawaitedAggregate, {
  valid: [
    { name: "awaited", code: save + `async function f() { await Promise.all([save("a"), save("b")]); }` },
    { name: "returned", code: save + `function f() { return Promise.allSettled([save("a")]); }` },
    { name: "stored and awaited", code: save + `async function f() { const all = Promise.all([save("a")]); await all; }` },
    { name: "handled with catch", code: save + `function f() { Promise.all([save("a")]).catch(() => {}); }` },
    { name: "voided", code: save + `function f() { void Promise.race([save("a")]); }` },
    {
      name: "a user-defined Promise is not the global one",
      code: `const Promise = { all(xs: number[]) { return xs.length; } };\nfunction f() { Promise.all([1]); }`,
    },
    { name: "a plain floating promise is floating-promise's", code: save + `function f() { save("a"); }` },
  ],
  invalid: [
    {
      name: "the seed's gather without await",
      code: save + `async function f() {\n  Promise.all([save("a"), save("b")]);\n}`,
      findings: [{ line: 3, summary: /Promise\.all.*not awaited.*the 2 operations/, fix: /await Promise\.all/ }],
    },
    { name: "allSettled", code: save + `function f(xs: string[]) {\n  Promise.allSettled(xs.map(save));\n}`, findings: [{ line: 3, summary: /allSettled/ }] },
    { name: "race and any", code: save + `function f() {\n  Promise.race([save("a")]);\n  Promise.any([save("b")]);\n}`, findings: [{ line: 3 }, { line: 4 }] },
    { name: "then without handler", code: save + `function f() {\n  Promise.all([save("a")]).then(() => {});\n}`, findings: [{ line: 3 }] },
    {
      name: "held in a local never read",
      code: save + `async function f() {\n  const all = Promise.all([save("a")]);\n}`,
      findings: [{ line: 3, summary: /`all` holds/ }],
    },
  ],
});
