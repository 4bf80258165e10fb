/**
 * `asyncdoctor run <entry> [-- args]`: runs a TypeScript or JavaScript program in debug mode,
 * with no build step. The program runs in a child Node.js process with tsx (for TypeScript) and
 * asyncdoctor/register preloaded; the settings travel in the environment.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";

/** Where this file is (works in the ESM and the CommonJS build). */
function ownFile(): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, ownFile);
  const m = /(?:file:\/\/)?(\/[^\s():]+\.(?:[cm]?js|ts)):\d+:\d+/.exec(holder.stack ?? "");
  if (!m?.[1]) throw new Error("asyncdoctor run: cannot locate the asyncdoctor package");
  return m[1];
}

/** The child's Node.js arguments that preload TypeScript support and debug mode. */
export function preloadArgs(entry: string): string[] {
  const here = ownFile();
  const require = createRequire(here);
  const args: string[] = ["--enable-source-maps"];
  if (/\.[cm]?tsx?$/.test(entry)) args.push("--import", pathToFileURL(require.resolve("tsx")).href);
  // dist/esm/src/cli/run.js -> dist/esm/src/register.js (src/cli/run.ts -> the built register, too)
  let register = join(dirname(here), "..", "register.js");
  if (!existsSync(register)) register = join(dirname(here), "..", "..", "dist", "esm", "src", "register.js");
  args.push("--import", pathToFileURL(register).href);
  return args;
}

/** Options of the run command. */
interface RunOptions {
  failOn?: string;
  report?: string;
  loopBlockMs?: string;
}

export function registerRun(program: Command, setCode: (code: number) => void): void {
  program
    .command("run")
    .description("run a TypeScript or JavaScript program in debug mode, with a report at exit")
    .argument("<entry>", "the program's entry file (.ts, .mts, .js, .mjs, …)")
    .argument("[args...]", "arguments for the program (after --)")
    .option("--fail-on <rules>", "comma-separated rule ids (or \"all\"): exit non-zero when any is found")
    .option("--report <file>", "write every Diagnosis of the run to this file: .json, or .html for a page with the wait-for graph")
    .option("--loop-block-ms <ms>", "report synchronous stretches longer than this (default 100)")
    .action(async (entry: string, args: string[], opts: RunOptions) => {
      const file = resolve(entry);
      if (!existsSync(file)) {
        process.stderr.write(`asyncdoctor run: no such file: ${entry}\n`);
        setCode(2);
        return;
      }
      if (opts.report !== undefined && !/\.(json|html?)$/i.test(opts.report)) {
        process.stderr.write(`asyncdoctor run: --report: expected a .json or .html file, got "${opts.report}"\n`);
        setCode(2);
        return;
      }
      if (opts.loopBlockMs !== undefined && !(Number(opts.loopBlockMs) > 0)) {
        process.stderr.write(`asyncdoctor run: --loop-block-ms: expected a number of milliseconds > 0, got "${opts.loopBlockMs}"\n`);
        setCode(2);
        return;
      }
      const env: NodeJS.ProcessEnv = { ...process.env, ASYNCDOCTOR: "debug" };
      if (opts.failOn) env.ASYNCDOCTOR_FAIL_ON = opts.failOn;
      if (opts.report) env.ASYNCDOCTOR_REPORT = resolve(opts.report);
      if (opts.loopBlockMs) env.ASYNCDOCTOR_LOOP_BLOCK_MS = opts.loopBlockMs;
      const child = spawn(process.execPath, [...preloadArgs(file), file, ...args], { stdio: "inherit", env });
      // the child gets the terminal's signals itself; the parent only waits for it
      const ignore = () => {};
      process.on("SIGINT", ignore);
      process.on("SIGTERM", ignore);
      const code = await new Promise<number>((done) => {
        child.on("exit", (c, signal) => done(c ?? (signal === "SIGINT" ? 130 : signal === "SIGTERM" ? 143 : 1)));
        child.on("error", (err) => {
          process.stderr.write(`asyncdoctor run: could not start node: ${err.message}\n`);
          done(2);
        });
      });
      process.off("SIGINT", ignore);
      process.off("SIGTERM", ignore);
      setCode(code);
    });
}
