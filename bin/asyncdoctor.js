#!/usr/bin/env node
// The asyncdoctor command: loads the built CLI.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Reports name TypeScript lines, not compiled ones.
process.setSourceMapsEnabled(true);

const main = new URL("../dist/esm/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write("asyncdoctor: the package is not built (dist/ is missing); run `npm run build` first.\n");
  process.exit(2);
}
const { main: run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
