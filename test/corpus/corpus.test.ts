/**
 * The corpus of reproduced real bug reports (corpus/cases/*) is well formed, without running
 * any case: each case has its case.json with the report it reproduces, a main file, the servers
 * it needs named from the ones the scorer can start, expected findings whose lines exist and
 * still hold the code they point at, rule ids that asyncdoctor has or that the issues ask for,
 * and controls that expect nothing. Also the scorer's matching of findings to expectations.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runtimeRuleIds } from "../../src/diagnose/rule-ids.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const corpusDir = `${root}corpus/`;
const casesDir = `${corpusDir}cases/`;

interface Expectation {
  readonly rule: string | readonly string[];
  readonly line: number;
  readonly code: string;
  readonly names?: readonly string[];
}

interface CaseSpec {
  readonly id: string;
  readonly title: string;
  readonly report: string;
  readonly library: string;
  readonly version: string;
  readonly kind: "bug" | "control";
  readonly needs: readonly string[];
  readonly ends: "hangs" | "exits" | "crashes";
  readonly expected: { readonly runtime: readonly Expectation[]; readonly static: readonly Expectation[] };
}

interface Site {
  readonly file: string;
  readonly line: number;
}

interface Finding {
  readonly rule: string;
  readonly site?: Site;
  readonly summary?: string;
  readonly subjects?: ReadonlyArray<{ readonly name?: string; readonly kind?: string; readonly site?: Site }>;
}

/** Runtime rule ids: the doctor's own list (DESIGN.md's table and the leaked-lock/leaked-timer split). */
const RUNTIME_RULES: readonly string[] = runtimeRuleIds;

/** Ids that issue 10 asks for and no runtime rule has yet; a case may expect them. */
const REQUESTED_RULES = [
  "database-deadlock", // issue 10: 40P01 / ER_LOCK_DEADLOCK with both sides
];

const STATIC_RULES = readdirSync(`${root}docs/rules`)
  .filter((f) => f.endsWith(".md"))
  .map((f) => f.replace(/\.md$/, ""));

const SERVERS = ["postgresql", "redis", "mariadb"];

const corpusPackage = JSON.parse(readFileSync(`${corpusDir}package.json`, "utf8")) as { dependencies?: Record<string, string> };

function mainOf(dir: string): string | undefined {
  const names = readdirSync(dir);
  return ["main.ts", "main.mts", "main.js", "main.mjs"].find((n) => names.includes(n));
}

const cases = readdirSync(casesDir)
  .sort()
  .map((id) => {
    const dir = `${casesDir}${id}/`;
    const main = mainOf(dir);
    return {
      id,
      dir,
      main,
      spec: existsSync(`${dir}case.json`) ? (JSON.parse(readFileSync(`${dir}case.json`, "utf8")) as CaseSpec) : undefined,
      source: main ? readFileSync(`${dir}${main}`, "utf8") : "",
    };
  });

describe("corpus: size and layout", () => {
  it("has at least 40 bug cases and 10 controls", () => {
    const bugs = cases.filter((c) => c.spec?.kind === "bug").length;
    const controls = cases.filter((c) => c.spec?.kind === "control").length;
    assert.ok(bugs >= 40, `${bugs} bug cases`);
    assert.ok(controls >= 10, `${controls} controls`);
  });

  it("keeps its dependencies in its own package.json and lockfile", () => {
    assert.ok(existsSync(`${corpusDir}package-lock.json`), "corpus/package-lock.json");
    assert.ok(Object.keys(corpusPackage.dependencies ?? {}).length > 0);
  });

  it("reproduces each report once", () => {
    const bugs = cases.filter((c) => c.spec?.kind === "bug").map((c) => c.spec?.report);
    assert.deepEqual(
      bugs.filter((r, i) => bugs.indexOf(r) !== i),
      [],
    );
  });
});

for (const c of cases) {
  describe(`corpus case ${c.id}`, () => {
    it("has a case.json and a main file", () => {
      assert.ok(c.spec, "case.json");
      assert.ok(c.main, "main.ts or main.js");
    });
    if (!c.spec || !c.main) return;
    const spec = c.spec;
    const lines = c.source.split("\n");

    it("names itself, the public report it reproduces and how it ends", () => {
      assert.equal(spec.id, c.id);
      assert.ok(spec.title.length > 10, "title");
      assert.match(spec.report, /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/(issues|pull)\/\d+$/);
      assert.ok(typeof spec.library === "string" && spec.library.length > 0, "library");
      assert.ok(typeof spec.version === "string" && spec.version.length > 0, "version");
      assert.ok(spec.kind === "bug" || spec.kind === "control", `kind ${spec.kind}`);
      assert.ok(["hangs", "exits", "crashes"].includes(spec.ends), `ends ${spec.ends}`);
      assert.ok(
        Array.isArray(spec.needs) && (spec.needs as unknown[]).every((n) => typeof n === "string" && SERVERS.includes(n)),
        `needs ${JSON.stringify(spec.needs)}`,
      );
    });

    it("imports only Node's modules and the corpus's own dependencies", () => {
      const specifiers = [...c.source.matchAll(/(?:^|\n)\s*import\s[^"']*["']([^"']+)["']/g)].map((m) => m[1] ?? "");
      for (const s of specifiers) {
        if (s.startsWith("node:") || s.startsWith(".")) continue;
        const pkg = s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0];
        assert.ok(pkg && corpusPackage.dependencies?.[pkg], `${s} is not a dependency in corpus/package.json`);
      }
    });

    it("needs the servers its program connects to", () => {
      const uses = { postgresql: "CORPUS_PG_URL", redis: "CORPUS_REDIS_URL", mariadb: "CORPUS_MYSQL_URL" } as const;
      for (const [server, env] of Object.entries(uses)) {
        assert.equal(c.source.includes(env), spec.needs.includes(server), `${server}: uses ${env} iff it needs it`);
      }
    });

    if (spec.kind === "control") {
      it("is a control: expects no finding", () => {
        assert.deepEqual(spec.expected, { runtime: [], static: [] });
      });
      return;
    }

    it("expects at least one finding", () => {
      assert.ok(spec.expected.runtime.length + spec.expected.static.length > 0);
    });

    for (const face of ["runtime", "static"] as const) {
      spec.expected[face].forEach((e, i) => {
        it(`${face} expectation ${i + 1}: a known rule at a line that holds its code`, () => {
          const rules = typeof e.rule === "string" ? [e.rule] : [...e.rule];
          assert.ok(rules.length > 0, "rule");
          const known = face === "runtime" ? [...RUNTIME_RULES, ...REQUESTED_RULES] : [...STATIC_RULES, ...REQUESTED_RULES];
          for (const r of rules) assert.ok(known.includes(r), `unknown ${face} rule ${r}`);
          assert.ok(Number.isInteger(e.line) && e.line >= 1 && e.line <= lines.length, `line ${e.line}`);
          assert.ok(typeof e.code === "string" && e.code.trim().length > 0, "code");
          assert.ok(lines[e.line - 1]?.includes(e.code), `line ${e.line} does not hold ${JSON.stringify(e.code)} (run node corpus/lines.mjs)`);
          assert.equal(lines.filter((l) => l.includes(e.code)).length, 1, `${JSON.stringify(e.code)} is not unique in ${c.main}`);
          assert.ok(!/^\s*\/\//.test(lines[e.line - 1] ?? ""), "the line is a comment");
        });
      });
    }
  });
}

describe("corpus scorer: matching findings to expectations", async () => {
  const scorer = (await import(pathToFileURL(`${corpusDir}score.mjs`).href)) as {
    matches(entry: Omit<Expectation, "code">, findings: readonly Finding[], main: string): boolean;
  };
  const main = `${casesDir}x/main.ts`;
  const at = (line: number, file = main): Site => ({ file, line });

  it("matches the rule at the line", () => {
    assert.ok(scorer.matches({ rule: "pool-exhaustion", line: 7 }, [{ rule: "pool-exhaustion", site: at(7) }], main));
  });
  it("matches one of several accepted rules", () => {
    assert.ok(scorer.matches({ rule: ["a", "never-settled"], line: 3 }, [{ rule: "never-settled", site: at(3) }], main));
  });
  it("matches a subject's site (a cycle edge, a dropped call)", () => {
    assert.ok(scorer.matches({ rule: "deadlock-cycle", line: 9 }, [{ rule: "deadlock-cycle", site: at(4), subjects: [{ name: "a", site: at(9) }] }], main));
  });
  it("matches when the finding mentions every expected name", () => {
    assert.ok(
      scorer.matches(
        { rule: "pool-exhaustion", line: 7, names: ["knex"] },
        [{ rule: "pool-exhaustion", site: at(7), subjects: [{ name: "knex pool" }] }],
        main,
      ),
    );
  });
  it("does not match another rule at the line", () => {
    assert.ok(!scorer.matches({ rule: "pool-exhaustion", line: 7 }, [{ rule: "loop-blocked", site: at(7) }], main));
  });
  it("does not match the rule at another line", () => {
    assert.ok(!scorer.matches({ rule: "pool-exhaustion", line: 7 }, [{ rule: "pool-exhaustion", site: at(8) }], main));
  });
  it("does not match the line in another file", () => {
    assert.ok(!scorer.matches({ rule: "pool-exhaustion", line: 7 }, [{ rule: "pool-exhaustion", site: at(7, `${casesDir}y/main.ts`) }], main));
  });
  it("does not match a finding without a site", () => {
    assert.ok(!scorer.matches({ rule: "loop-blocked", line: 1 }, [{ rule: "loop-blocked" }], main));
  });
  it("does not match when an expected name is missing", () => {
    assert.ok(!scorer.matches({ rule: "pool-exhaustion", line: 7, names: ["knex"] }, [{ rule: "pool-exhaustion", site: at(7), summary: "pool p" }], main));
  });
  it("does not match when there is no finding", () => {
    assert.ok(!scorer.matches({ rule: "never-settled", line: 2 }, [], main));
  });
});
