#!/usr/bin/env node
// The asyncdoctor command: loads the built CLI.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
// `check` runs the CommonJS build. It loads the TypeScript compiler, one 9 MB CommonJS file:
// `require` compiles it once, where an ESM `import` of it also runs Node's module-format
// detection and its export lexer over the whole file (about 0.6 s of CPU on every run).
const check = argv[0] === "check";
const main = new URL(check ? "../dist/cjs/src/cli/main.js" : "../dist/esm/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write("asyncdoctor: the package is not built (dist/ is missing); run `npm run build` first.\n");
  process.exit(2);
}
if (check) {
  const require = createRequire(import.meta.url);
  // loaded before source maps are on, so that Node does not index the compiler's own source
  // for a map it does not ship; a missing TypeScript is reported by `check` itself
  try {
    require("typescript");
  } catch {
    // `check` says how to install it
  }
  // Reports name TypeScript lines, not compiled ones.
  process.setSourceMapsEnabled(true);
  const { main: run } = require(fileURLToPath(main));
  process.exitCode = await run(argv);
} else {
  // Reports name TypeScript lines, not compiled ones.
  process.setSourceMapsEnabled(true);
  const { main: run } = await import(main.href);
  process.exitCode = await run(argv);
}
