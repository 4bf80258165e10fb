/**
 * read-await-write against ESLint's require-atomic-updates on the same sources: the rule's
 * correct-code cases (each a pattern where a naive rule cries wolf) and its racy cases. Reports
 * how many of each every tool flags, then the time to check them all, side by side (ours builds
 * a type-checked program per case; ESLint parses each case).
 */
import { Linter } from "eslint";
import tsParser from "@typescript-eslint/parser";
import { readAwaitWrite } from "../src/check/rules/read-await-write.js";
import { runRule } from "../test/check/rule-tester.js";
import { readAwaitWriteCases } from "../test/check/rules/read-await-write.cases.js";
import { compare, figure } from "./harness.js";

const linter = new Linter({ configType: "flat" });
const config: Linter.Config[] = [
  {
    files: ["**/*.ts"],
    languageOptions: { parser: tsParser, ecmaVersion: 2022, sourceType: "module" },
    rules: { "require-atomic-updates": "error" },
  },
];

function eslintFlags(code: string): number {
  return linter.verify(code, config, { filename: "main.ts" }).filter((m) => m.ruleId === "require-atomic-updates").length;
}

function oursFlags(c: (typeof readAwaitWriteCases.valid)[number]): number {
  return runRule(readAwaitWrite, c).filter((f) => f.node.getSourceFile().fileName.endsWith("/main.ts")).length;
}

const { valid, invalid } = readAwaitWriteCases;
const eslintOnValid = valid.filter((c) => eslintFlags(c.code) > 0);
const oursOnValid = valid.filter((c) => oursFlags(c) > 0);
const eslintOnInvalid = invalid.filter((c) => eslintFlags(c.code) > 0);
const oursOnInvalid = invalid.filter((c) => oursFlags(c) > 0);

figure(
  "correct code flagged (false positives)",
  `read-await-write ${oursOnValid.length}/${valid.length}, require-atomic-updates ${eslintOnValid.length}/${valid.length}`,
);
figure("lost updates found", `read-await-write ${oursOnInvalid.length}/${invalid.length}, require-atomic-updates ${eslintOnInvalid.length}/${invalid.length}`);
for (const c of eslintOnValid) figure("  require-atomic-updates false positive", c.name ?? "?");
for (const c of invalid.filter((x) => !eslintOnInvalid.includes(x))) figure("  require-atomic-updates misses", c.name ?? "?");

await compare(
  [
    {
      label: `check all ${valid.length + invalid.length} cases`,
      ours: () => {
        for (const c of [...valid, ...invalid]) oursFlags(c);
      },
      peer: () => {
        for (const c of [...valid, ...invalid]) eslintFlags(c.code);
      },
      peerName: "require-atomic-updates",
    },
  ],
  { time: 500 },
);
