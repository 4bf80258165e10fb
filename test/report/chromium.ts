// Finds Debian's chromium for the browser tests. In CI a missing browser is a failure, never a
// skip (.ci/run installs it); locally each test is skipped by the runner, with the reason, so the
// summary counts it as skipped rather than passed.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";

const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The chromium executable, or a reason why there is none. */
export function findChromium(): { path: string } | { missing: string } {
  for (const c of candidates) if (c && existsSync(c)) return { path: c };
  return {
    missing: `no chromium found (looked at ${candidates.filter(Boolean).join(", ")}); install it with "apt-get install -y chromium" or set CHROMIUM_PATH`,
  };
}

/**
 * Each browser test's `skip` option: false when chromium is there, and in CI (where a missing
 * browser then fails the test); else the reason, which the runner prints beside the skipped test.
 */
export function skipWithoutChromium(): string | false {
  const found = findChromium();
  if ("path" in found || process.env.CI) return false;
  return found.missing;
}

/** Launches headless chromium with a fresh profile; `close()` also removes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const found = findChromium();
  if (!("path" in found)) throw new Error(found.missing);
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "asyncdoctor-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: found.path,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
