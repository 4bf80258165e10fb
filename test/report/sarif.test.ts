import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv } from "ajv";
import type { Log } from "sarif";
import { renderSarif } from "../../src/report/sarif.js";
import { rules } from "../../src/check/rules/index.js";
import { check } from "../../src/check/runner.js";
import { tempProject } from "../check/helpers.js";

const require = createRequire(import.meta.url);
// the official SARIF 2.1.0 JSON schema (as published by OASIS), shipped in @microsoft/jest-sarif
const schema = JSON.parse(readFileSync(require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"), "utf8")) as Record<string, unknown>;

const code = `async function save(x: string): Promise<void> { await null; void x; }
export function f() {
  save("a");
  Promise.all([save("b")]);
}
export function g() {
  // asyncdoctor-ignore floating-promise
  save("c");
}
`;

describe("SARIF output", () => {
  const dir = tempProject({ "src/a.ts": code });
  const result = check({ cwd: dir, paths: ["src"] });
  const text = renderSarif(result.diagnoses, { rules: rules.map((r) => r.meta), baseDir: dir, version: "1.2.3" });
  const log = JSON.parse(text) as Log;

  it("validates against the SARIF 2.1.0 schema", () => {
    // the schema is draft-04; its keywords that matter here (required, type, enum, minimum, $ref) mean the same in Ajv's dialect
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, validateSchema: false, unicodeRegExp: false });
    const { $schema: _draft, id: _id, ...body } = schema;
    const validate = ajv.compile(body);
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    // and the validator does reject what is not SARIF
    assert.equal(validate({ version: "2.1.0", runs: [{ results: [] }] }), false);
    assert.equal(validate({ ...log, version: "2.0.0" }), false);
  });

  it("has what GitHub code scanning needs: rules with ids and help, results with level, location, region, fingerprints", () => {
    assert.equal(log.version, "2.1.0");
    const run = log.runs[0]!;
    assert.equal(run.tool.driver.name, "asyncdoctor");
    assert.equal(run.tool.driver.version, "1.2.3");
    const table = run.tool.driver.rules!;
    for (const r of rules) {
      const entry = table.find((t) => t.id === r.meta.id);
      assert.ok(entry, r.meta.id);
      assert.equal(entry.helpUri, undefined, "no link to a page that is not published");
      assert.match(entry.help!.text, new RegExp(`node_modules/asyncdoctor/docs/rules/${r.meta.id}\\.md$`));
      assert.ok(entry.shortDescription?.text);
    }
    const results = run.results!;
    assert.deepEqual(results.map((r) => r.ruleId).sort(), ["floating-promise", "suppression-without-reason", "unawaited-aggregate"]);
    for (const r of results) {
      assert.equal(table[r.ruleIndex!]!.id, r.ruleId);
      assert.ok(r.level === "error" || r.level === "warning");
      const loc = r.locations![0]!.physicalLocation!;
      assert.equal(loc.artifactLocation!.uri, "src/a.ts");
      assert.equal(loc.artifactLocation!.uriBaseId, "%SRCROOT%");
      assert.ok(loc.region!.startLine! >= 1 && loc.region!.startColumn! >= 1);
      assert.match(r.partialFingerprints!.primaryLocationLineHash!, /^[0-9a-f]{32}:\d+$/);
      assert.match(r.message.text!, /Fix: /);
    }
    const fp = results.find((r) => r.ruleId === "floating-promise")!;
    assert.deepEqual(fp.locations![0]!.physicalLocation!.region, { startLine: 3, startColumn: 3, endLine: 3, endColumn: 12 });
  });

  it("names the running package's own version, and links rule pages only when given where they are", () => {
    const own = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    const plain = JSON.parse(renderSarif([], { rules: rules.map((r) => r.meta) })) as Log;
    assert.equal(plain.runs[0]!.tool.driver.version, own.version);
    const linked = JSON.parse(renderSarif([], { rules: rules.map((r) => r.meta), docsBase: "https://example.test/rules/" })) as Log;
    for (const entry of linked.runs[0]!.tool.driver.rules!) assert.equal(entry.helpUri, `https://example.test/rules/${entry.id}.md`);
  });

  it("keeps a finding's fingerprint when lines above it move", () => {
    const moved = tempProject({ "src/a.ts": `// a new header line\n\n${code}` });
    const again = JSON.parse(renderSarif(check({ cwd: moved, paths: ["src"] }).diagnoses, { rules: rules.map((r) => r.meta), baseDir: moved })) as Log;
    const fps = (l: Log) => l.runs[0]!.results!.map((r) => r.partialFingerprints!.primaryLocationLineHash).sort();
    assert.deepEqual(fps(again), fps(log));
  });

  it("rejects bad arguments", () => {
    assert.throws(() => renderSarif("x" as unknown as [], { rules: [] }), { name: "TypeError", message: /"diagnoses" argument must be an array/ });
    assert.throws(() => renderSarif([], {} as unknown as { rules: [] }), { name: "TypeError", message: /"options\.rules" argument/ });
  });
});
