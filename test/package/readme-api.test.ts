// The README's lists of what to import match the entries' real exports, value for value and
// type for type, so the documentation cannot drift from src/index.ts and src/hooks.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");

/** The names an entry file exports, split into values and types. */
function exportsOf(file: string): { values: string[]; types: string[] } {
  const src = readFileSync(new URL(file, root), "utf8");
  const values: string[] = [];
  const types: string[] = [];
  for (const m of src.matchAll(/^export (type )?\{([^}]*)\}/gm)) {
    const names = m[2]!
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n.length > 0);
    (m[1] ? types : values).push(...names);
  }
  return { values: values.sort(), types: types.sort() };
}

/** The names in the values and types columns of the table under `heading`. */
function listed(heading: string): { values: string[]; types: string[] } {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.notEqual(start, -1, `the README has a "${heading}" section`);
  const end = readme.indexOf("\n### ", start + heading.length + 2);
  const rows = readme
    .slice(start, end === -1 ? undefined : end)
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| for ") && !l.startsWith("|---"));
  const names = (cell: string | undefined) => [...(cell ?? "").matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1]!);
  const values: string[] = [];
  const types: string[] = [];
  for (const row of rows) {
    const cells = row.split("|").map((c) => c.trim());
    values.push(...names(cells[2]));
    types.push(...names(cells[3]));
  }
  return { values: values.sort(), types: types.sort() };
}

describe("the README's import lists", () => {
  it("list exactly what `asyncdoctor` exports", () => {
    const real = exportsOf("src/index.ts");
    assert.ok(real.values.length > 20, "the root entry was parsed");
    assert.deepEqual(listed("### `asyncdoctor`"), real);
  });
  it("list exactly what `asyncdoctor/hooks` exports", () => {
    const real = exportsOf("src/hooks.ts");
    assert.ok(real.values.length > 5, "the hooks entry was parsed");
    assert.deepEqual(listed("### `asyncdoctor/hooks`"), real);
  });
  it("the two entries export no name twice", () => {
    const root = exportsOf("src/index.ts");
    const hooks = exportsOf("src/hooks.ts");
    const all = [...root.values, ...root.types, ...hooks.values, ...hooks.types];
    const twice = all.filter((n, i) => all.indexOf(n) !== i && !(n === "TaskRecord"));
    assert.deepEqual(twice, [], "TaskRecord alone is both: its type at the root, the class in hooks");
  });
});
