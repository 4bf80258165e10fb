/** Temporary projects on disk for the checker's tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after } from "node:test";

/** Writes `files` (relative path → content) into a fresh temporary directory, removed after the tests. */
export function tempProject(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-check-"));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const FLOATING = `async function save(x: string): Promise<void> { await null; void x; }\nexport function f() {\n  save("a");\n}\n`;
export const CLEAN = `async function save(x: string): Promise<void> { await null; void x; }\nexport async function f() {\n  await save("a");\n}\n`;
