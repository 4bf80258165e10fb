// Lint: typescript-eslint's type-checked recommended set, no floating promises, no `any`, and a
// few async rules we hold ourselves to. JavaScript files outside the TypeScript project are
// linted without type information.
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      "test/**/fixtures/**",
      "coverage/**",
      ".bench/**",
      "test-artifacts/**",
      "corpus/cases/**",
      "corpus/node_modules/**",
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // methods are passed as stack-trace markers (Error.captureStackTrace's constructorOpt: "the
      // site is this method's caller"), never called detached
      "@typescript-eslint/unbound-method": "off",
      // node:test's describe/it return promises the runner itself awaits
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["describe", "it", "test", "suite", "before", "after", "beforeEach", "afterEach"] },
          ],
        },
      ],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/no-unsafe-function-type": "off",
      // an AbortSignal's reason is typed any/unknown: passing it on is right
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingAny: true, allowThrowingUnknown: true }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    files: ["test/**/*.ts", "demos/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      // their async functions stand for async work (the input the code under test must get a
      // promise from), so one with nothing to await is the point, not a slip
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // these demos show the seed's floating promise on purpose (and print it as the checker's
    // code frame, so the line stays as a reader would write the bug)
    // tests of the instrumented libraries run their real APIs, whose results are typed `any`
    files: ["test/instrument/**/*.ts", "test/integrations/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
    },
  },
  {
    files: ["demos/task-leak.ts", "demos/unawaited-gather.ts"],
    rules: { "@typescript-eslint/no-floating-promises": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
