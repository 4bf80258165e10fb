// Keeps each case.json's expected lines in step with its main file: every expected entry names
// the code it points at (`code`, a substring of that line); this sets `line` to the line that
// holds it, and rewrites the list of cases in corpus/README.md. Run it after adding or editing a
// case: `node corpus/lines.mjs` (or `--check` to only report drift, exit 1 if any). The corpus
// test does the same check.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const casesDir = fileURLToPath(new URL("./cases/", import.meta.url));
const checkOnly = process.argv.includes("--check");

/** The case's program: main.ts, else main.js / main.mjs. */
export function mainFile(dir) {
  const names = readdirSync(dir);
  return ["main.ts", "main.mts", "main.js", "main.mjs"].find((n) => names.includes(n));
}

/** The 1-based line of `code` in `lines`, or 0 when it is absent or ambiguous. */
export function lineOf(lines, code) {
  const hits = [];
  lines.forEach((l, i) => {
    if (l.includes(code)) hits.push(i + 1);
  });
  return hits.length === 1 ? hits[0] : 0;
}

function main() {
  let drift = 0;
  for (const id of readdirSync(casesDir).sort()) {
    const dir = join(casesDir, id);
    const file = mainFile(dir);
    if (!file) continue;
    const lines = readFileSync(join(dir, file), "utf8").split("\n");
    const jsonPath = join(dir, "case.json");
    const spec = JSON.parse(readFileSync(jsonPath, "utf8"));
    let changed = false;
    for (const face of ["runtime", "static"]) {
      for (const e of spec.expected?.[face] ?? []) {
        const line = lineOf(lines, e.code ?? "");
        if (line === 0) {
          console.error(`${id}: ${face} ${e.rule}: code not found exactly once in ${file}: ${JSON.stringify(e.code)}`);
          drift++;
        } else if (e.line !== line) {
          if (checkOnly) console.error(`${id}: ${face} ${e.rule}: line ${e.line} should be ${line}`);
          drift++;
          e.line = line;
          changed = true;
        }
      }
    }
    if (changed && !checkOnly) {
      // keep `line` right after `rule` so the file reads naturally
      for (const face of ["runtime", "static"]) {
        spec.expected[face] = (spec.expected[face] ?? []).map(({ rule, line, ...rest }) => ({ rule, line, ...rest }));
      }
      writeFileSync(jsonPath, `${JSON.stringify(spec, null, 2)}\n`);
    }
  }
  if (!checkOnly) writeReadmeTable();
  if (checkOnly && drift > 0) process.exit(1);
}

/** The README's table of cases, between its `<!-- cases -->` and `<!-- /cases -->` markers. */
function writeReadmeTable() {
  const readme = fileURLToPath(new URL("./README.md", import.meta.url));
  const text = readFileSync(readme, "utf8");
  const start = text.indexOf("<!-- cases -->");
  const end = text.indexOf("<!-- /cases -->");
  if (start < 0 || end < start) return;
  const rules = (entries) => (entries ?? []).map((e) => [].concat(e.rule).join(" or ")).join("; ") || "-";
  const rows = readdirSync(casesDir)
    .sort()
    .filter((id) => mainFile(join(casesDir, id)))
    .map((id) => {
      const s = JSON.parse(readFileSync(join(casesDir, id, "case.json"), "utf8"));
      return `| ${s.kind} | \`${id}\` | [${s.report.replace("https://github.com/", "")}](${s.report}) | ${s.library} | ${(s.needs ?? []).join(", ") || "-"} | ${s.ends} | ${rules(s.expected?.runtime)} | ${rules(s.expected?.static)} |`;
    });
  const table = ["| kind | case | report | library | needs | ends | runtime | static |", "|---|---|---|---|---|---|---|---|", ...rows].join("\n");
  writeFileSync(readme, `${text.slice(0, start)}<!-- cases -->\n${table}\n${text.slice(end)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
