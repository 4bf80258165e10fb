/**
 * Every rule has its page, and the page says what the rule's metadata says (as typescript-eslint's
 * docs.test and schemas.test check theirs): the heading, certainty and severity, each option of
 * its schema, and a link from the README. Every page names a rule.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import plugin from "../../../src/check/eslint/plugin.js";
import { rules } from "../../../src/check/rules/index.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const docsDir = `${root}docs/rules/`;
const readme = readFileSync(`${root}README.md`, "utf8");

describe("rule docs", () => {
  for (const rule of rules) {
    const id = rule.meta.id;
    describe(id, () => {
      const file = `${docsDir}${id}.md`;
      it("has its page, headed with its id", () => {
        assert.ok(existsSync(file), `docs/rules/${id}.md is missing`);
        assert.equal(readFileSync(file, "utf8").split("\n")[0], `# ${id}`);
      });

      it("states the certainty and default severity the rule has", () => {
        const text = readFileSync(file, "utf8");
        const m = /\*\*Certainty:\*\* (\w+) · \*\*default severity:\*\* (\w+)/.exec(text);
        // the lock rules' pages state them in their own words; when the line is there it must be right
        if (!m) return;
        assert.equal(m[1], rule.meta.certainty);
        assert.equal(m[2], rule.meta.defaultSeverity);
      });

      it("documents every option of its schema, under ## Options", () => {
        const names = Object.keys(rule.meta.optionsSchema?.properties ?? {});
        if (names.length === 0) return;
        const text = readFileSync(file, "utf8");
        const section = text.slice(text.indexOf("## Options"));
        assert.ok(text.includes("## Options"), `docs/rules/${id}.md has no "## Options" section`);
        for (const n of names) assert.match(section, new RegExp(`\`${n}\``), `option ${n} is not documented`);
      });

      it("is linked from the README", () => {
        assert.ok(readme.includes(`docs/rules/${id}.md`), `README does not link docs/rules/${id}.md`);
      });

      if (rule.meta.scope === "file") {
        it("is linked from its ESLint rule", () => {
          assert.match(String(plugin.rules?.[id] && "meta" in plugin.rules[id] ? plugin.rules[id].meta?.docs?.url : ""), new RegExp(`/docs/rules/${id}\\.md$`));
        });
      }
    });
  }

  it("every page names a rule", () => {
    const ids = new Set(rules.map((r) => r.meta.id));
    for (const name of readdirSync(docsDir)) assert.ok(ids.has(name.replace(/\.md$/, "")), `docs/rules/${name} names no rule`);
  });
});

describe("rule option schemas", () => {
  for (const rule of rules.filter((r) => r.meta.optionsSchema)) {
    it(`${rule.meta.id}: an object whose keys are all declared, each with a type`, () => {
      const schema = rule.meta.optionsSchema!;
      assert.equal(schema.type, "object");
      assert.equal(schema.additionalProperties, false);
      for (const [k, v] of Object.entries(schema.properties)) {
        assert.ok(v.type, `option ${k} has no type`);
        if (v.type === "object") assert.equal(v.additionalProperties, false, `option ${k} accepts undeclared keys`);
        if (v.type === "array") {
          assert.ok(v.items?.type, `option ${k} has no item type`);
          if (v.items.type === "object") assert.equal(v.items.additionalProperties, false, `items of ${k} accept undeclared keys`);
        }
      }
    });
  }

  it("each ESLint rule carries its rule's schema (none: no options accepted)", () => {
    for (const rule of rules.filter((r) => r.meta.scope === "file")) {
      const mod = plugin.rules?.[rule.meta.id];
      const schema = mod && "meta" in mod ? mod.meta?.schema : undefined;
      assert.deepEqual(schema, rule.meta.optionsSchema ? [rule.meta.optionsSchema] : [], rule.meta.id);
    }
  });
});
