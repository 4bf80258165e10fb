/**
 * asyncdoctor's file-scoped rules as an ESLint plugin (flat config). Each ESLint rule is a thin
 * adapter: it takes the TypeScript program, checker and source file from typescript-eslint's
 * parser services and runs the very same rule the CLI runs, mapping each finding's TypeScript
 * node back to its ESTree node. Program-scoped rules (call chains, lock orders) need the whole
 * program at once and run only in `asyncdoctor check`.
 *
 * `asyncdoctor-ignore` comments are honoured here as in `asyncdoctor check` (and that command
 * honours `eslint-disable` comments naming asyncdoctor rules), so a finding silenced in one face
 * stays silent in the other.
 *
 * Runtime needs: only `typescript` (a dependency of asyncdoctor). ESLint and
 * @typescript-eslint/parser are the user's, as optional peer dependencies; this file imports
 * their types only.
 */
import type { ESLint, Linter, Rule as ESLintRule } from "eslint";
import type ts from "typescript";
import type { Finding, Rule } from "../rule.js";
import { rules as allRules } from "../rules/index.js";
import { findSuppressions, isSuppressed } from "../suppression.js";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { moduleFileOf, packageRootOf } from "../../core/site.js";

/** What typescript-eslint's parser puts in `sourceCode.parserServices` when type information is on. */
interface TypedParserServices {
  readonly program: ts.Program | null;
  readonly esTreeNodeToTSNodeMap: { get(node: unknown): ts.Node | undefined };
  readonly tsNodeToESTreeNodeMap: { get(node: ts.Node): unknown };
}

function typedServices(context: ESLintRule.RuleContext): TypedParserServices | undefined {
  const services = context.sourceCode.parserServices as Partial<TypedParserServices> | undefined;
  if (!services || !services.program || !services.esTreeNodeToTSNodeMap || !services.tsNodeToESTreeNodeMap) return undefined;
  return services as TypedParserServices;
}

function message(f: Finding): string {
  return `${f.summary}. Fix: ${f.fix}`;
}

/** The package's docs/rules folder, found from this file (src/ or dist/<esm|cjs>/src/). */
const docsDir = join(packageRootOf(pluginFile()), "docs", "rules");

function pluginFile(): string {
  return moduleFileOf(pluginFile);
}

/** Wraps one asyncdoctor rule as an ESLint rule. */
function adapt(rule: Rule): ESLintRule.RuleModule {
  const id = rule.meta.id;
  return {
    meta: {
      type: "problem",
      // the page ships in the package (docs/rules/): a file URL, not a site that may not exist
      docs: { description: rule.meta.description, recommended: true, url: pathToFileURL(join(docsDir, `${id}.md`)).href },
      // ESLint validates the options against it: an unknown key (a typo) stops the lint
      // (our schema type is a readonly subset of ESLint's JSON Schema 4)
      schema: (rule.meta.optionsSchema ? [rule.meta.optionsSchema] : []) as ESLintRule.RuleMetaData["schema"],
      hasSuggestions: true,
    },
    create(context) {
      const services = typedServices(context);
      if (!services || !services.program) {
        throw new Error(
          `asyncdoctor/${id} needs type information: use @typescript-eslint/parser with parserOptions.projectService: true (or parserOptions.project)`,
        );
      }
      const program = services.program;
      return {
        Program(node) {
          const mapped = services.esTreeNodeToTSNodeMap.get(node);
          const sourceFile = mapped && "statements" in mapped ? (mapped as ts.SourceFile) : program.getSourceFile(context.filename);
          if (!sourceFile || !rule.checkFile) return;
          const options = (context.options[0] as Readonly<Record<string, unknown>> | undefined) ?? {};
          const suppressions = findSuppressions(sourceFile);
          rule.checkFile({
            program,
            checker: program.getTypeChecker(),
            sourceFile,
            options,
            report(f) {
              const startPos = f.node.getStart(sourceFile);
              const start = sourceFile.getLineAndCharacterOfPosition(startPos);
              if (f.node.getSourceFile() !== sourceFile || isSuppressed(suppressions, id, start.line + 1)) return;
              const suggest = (f.suggestions ?? []).map((sg) => ({
                desc: sg.description,
                fix: (fixer: ESLintRule.RuleFixer) => sg.edits.map((e) => fixer.replaceTextRange([e.start, e.end], e.text)),
              }));
              const esNode = services.tsNodeToESTreeNodeMap.get(f.node) as ESLintRule.Node | undefined;
              if (esNode) {
                context.report({ node: esNode, message: message(f), suggest });
                return;
              }
              const end = sourceFile.getLineAndCharacterOfPosition(f.node.getEnd());
              context.report({
                loc: { start: { line: start.line + 1, column: start.character }, end: { line: end.line + 1, column: end.character } },
                message: message(f),
                suggest,
              });
            },
          });
        },
      };
    },
  };
}

const fileRules = allRules.filter((r) => r.meta.scope === "file" && r.checkFile);

/** The plugin's rules, by id (without the `asyncdoctor/` prefix). */
export const eslintRules: Readonly<Record<string, ESLintRule.RuleModule>> = Object.fromEntries(fileRules.map((r) => [r.meta.id, adapt(r)]));

const recommendedRules: Linter.RulesRecord = Object.fromEntries(
  fileRules.map((r) => [`asyncdoctor/${r.meta.id}`, r.meta.defaultSeverity === "error" ? "error" : "warn"]),
);
const disabledRules: Linter.RulesRecord = Object.fromEntries(fileRules.map((r) => [`asyncdoctor/${r.meta.id}`, "off"]));

/** The TypeScript files the recommended config applies to: the rules need type information, which plain JavaScript files (such as eslint.config.js) do not get. */
export const TYPESCRIPT_FILES: readonly string[] = ["**/*.ts", "**/*.tsx", "**/*.mts", "**/*.cts"];

/**
 * The ESLint plugin. Use `plugin.configs.recommended` in a flat config, with typescript-eslint's
 * parser and type information. It applies to TypeScript files only; for JavaScript files that
 * are type-checked too (`allowJs`), add them to `files` yourself, and for files linted without
 * type information, `plugin.configs.disableTypeChecked` turns every asyncdoctor rule off (as
 * typescript-eslint's config of that name does for its rules).
 *
 * @example
 * ```js
 * // eslint.config.js
 * import tseslint from "typescript-eslint";
 * import asyncdoctor from "asyncdoctor/eslint";
 * export default [
 *   { files: ["**\/*.ts"], languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true } } },
 *   asyncdoctor.configs.recommended,
 *   { files: ["**\/*.js"], ...asyncdoctor.configs.disableTypeChecked },
 * ];
 * ```
 */
const plugin: ESLint.Plugin & { configs: { recommended: Linter.Config; disableTypeChecked: Linter.Config } } = {
  meta: { name: "asyncdoctor" },
  rules: eslintRules,
  configs: {
    recommended: { name: "asyncdoctor/recommended", files: [...TYPESCRIPT_FILES], plugins: {}, rules: recommendedRules },
    disableTypeChecked: { name: "asyncdoctor/disable-type-checked", rules: disabledRules },
  },
};
// the config names the plugin itself, so it can only be filled in once the plugin exists
(plugin.configs.recommended.plugins as Record<string, ESLint.Plugin>).asyncdoctor = plugin;

export default plugin;
export { plugin };
