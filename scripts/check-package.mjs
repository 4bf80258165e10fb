// Checks the package as npm would publish it: packs the built tree (no rebuild: `npm test` has
// just built it; `npm pack` alone runs the prepack build), then runs publint and
// arethetypeswrong on that tarball. Offline: both read only the tarball.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

if (!existsSync("dist/esm/src/index.js") || !existsSync("dist/cjs/src/index.js")) {
  console.error("check:package: dist/ is missing; run `npm run build` first");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-pack-"));
let failed = false;
try {
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }),
  );
  const tarball = join(dir, packed[0].filename);
  console.log(`check:package: ${packed[0].filename}, ${packed[0].entryCount} files, ${(packed[0].size / 1024).toFixed(0)} kB packed`);
  const run = (label, bin, args) => {
    try {
      execFileSync(process.execPath, [bin, ...args], { stdio: "inherit" });
    } catch {
      console.error(`check:package: ${label} failed`);
      failed = true;
    }
  };
  run("publint", "node_modules/publint/src/cli.js", ["run", tarball, "--strict"]);
  run("arethetypeswrong", "node_modules/@arethetypeswrong/cli/dist/index.js", [tarball, "--no-emoji", "--no-color"]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
