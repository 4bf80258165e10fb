/**
 * `asyncdoctor run <entry> [-- args]`: runs a TypeScript or JavaScript program in debug mode,
 * with no build step. The program runs in a child Node.js process with tsx (for TypeScript) and
 * asyncdoctor/register preloaded; the settings travel in the environment.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, statSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import { unknownRuleMessage } from "../diagnose/rule-ids.js";

/** Where this file is (works in the ESM and the CommonJS build). */
function ownFile(): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, ownFile);
  const m = /(?:file:\/\/)?(\/[^\s():]+\.(?:[cm]?js|ts)):\d+:\d+/.exec(holder.stack ?? "");
  if (!m?.[1]) throw new Error("asyncdoctor run: cannot locate the asyncdoctor package");
  return m[1];
}

/** A built module of the package, from this file (dist/esm/src/cli/run.js, or src/cli/run.ts in the tests). */
function builtModule(here: string, path: string): string {
  let file = join(dirname(here), "..", path);
  if (!existsSync(file)) file = join(dirname(here), "..", "..", "dist", "esm", "src", path);
  return pathToFileURL(file).href;
}

/** The child's Node.js arguments that preload TypeScript support and debug mode. */
export function preloadArgs(entry: string): string[] {
  const here = ownFile();
  const require = createRequire(here);
  const args: string[] = ["--enable-source-maps"];
  if (/\.[cm]?tsx?$/.test(entry)) args.push("--import", pathToFileURL(require.resolve("tsx")).href);
  // before register: the run's own child-side settings (a clear syntax error, the --stuck-after watchdog)
  args.push("--import", builtModule(here, "diagnose/run-child.js"));
  args.push("--import", builtModule(here, "register.js"));
  return args;
}

/** Options of the run command. */
interface RunOptions {
  failOn?: string;
  report?: string;
  loopBlockMs?: string;
  stuckAfter?: string;
}

/**
 * Why the report file cannot be written, or undefined when it can: checked before the program
 * starts, so a run of an hour does not end with nowhere to put its findings.
 */
export function reportPathProblem(file: string): string | undefined {
  try {
    if (existsSync(file) && statSync(file).isDirectory()) return "it is a directory";
    const existed = existsSync(file);
    // opening for append is the one check that sees permissions, read-only mounts and missing folders alike
    closeSync(openSync(file, "a"));
    if (!existed) unlinkSync(file);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT") return `its folder ${dirname(file)} does not exist`;
    if (e.code === "ENOTDIR") return "a part of its path is not a folder";
    if (e.code === "EACCES" || e.code === "EPERM") return "permission denied";
    if (e.code === "EROFS") return "the file system is read-only";
    return e.message;
  }
}

/** A bad value of the command line or the environment: the message, for exit code 2. */
function checkOptions(entry: string, opts: RunOptions): string | undefined {
  if (!existsSync(resolve(entry))) return `no such file: ${entry}`;
  const failOn = [
    ["--fail-on", opts.failOn],
    ["ASYNCDOCTOR_FAIL_ON", process.env.ASYNCDOCTOR_FAIL_ON],
  ] as const;
  for (const [name, value] of failOn) {
    if (value === undefined) continue;
    const ids = value
      .split(",")
      .map((r) => r.trim())
      .filter(Boolean);
    if (ids.length === 0) return `${name}: expected comma-separated rule ids or "all", got "${value}"`;
    for (const id of ids) {
      const problem = unknownRuleMessage(id);
      if (problem) return `${name}: ${problem}`;
    }
  }
  if (opts.report !== undefined) {
    if (!/\.(json|html?)$/i.test(opts.report)) return `--report: expected a .json or .html file, got "${opts.report}"`;
    const problem = reportPathProblem(resolve(opts.report));
    if (problem) return `--report: cannot write "${opts.report}": ${problem}`;
  }
  if (opts.loopBlockMs !== undefined && !(Number(opts.loopBlockMs) > 0)) {
    return `--loop-block-ms: expected a number of milliseconds > 0, got "${opts.loopBlockMs}"`;
  }
  if (opts.stuckAfter !== undefined && !(Number(opts.stuckAfter) > 0 && Number(opts.stuckAfter) < 2 ** 31)) {
    return `--stuck-after: expected a number of milliseconds > 0 (and below 2^31), got "${opts.stuckAfter}"`;
  }
  return undefined;
}

/** The signals `run` passes on to the program (docker stop, systemd, kill). */
const FORWARDED = ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR2"] as const;

export function registerRun(program: Command, setCode: (code: number) => void): void {
  program
    .command("run")
    .description("run a TypeScript or JavaScript program in debug mode, with a report at exit")
    .argument("<entry>", "the program's entry file (.ts, .mts, .js, .mjs, …)")
    .argument("[args...]", "arguments for the program (after --)")
    .option("--fail-on <rules>", 'comma-separated rule ids (or "all"): exit non-zero when any is found')
    .option("--report <file>", "write every Diagnosis of the run to this file: .json, or .html for a page with the wait-for graph")
    .option("--loop-block-ms <ms>", "report synchronous stretches longer than this (default 100)")
    .option("--stuck-after <ms>", "print the stuck-awaits report once an await has been pending this long (the program goes on)")
    .action(async (entry: string, args: string[], opts: RunOptions) => {
      const problem = checkOptions(entry, opts);
      if (problem) {
        process.stderr.write(`asyncdoctor run: ${problem}\n`);
        setCode(2);
        return;
      }
      const file = resolve(entry);
      const env: NodeJS.ProcessEnv = { ...process.env, ASYNCDOCTOR: "debug" };
      if (opts.failOn) env.ASYNCDOCTOR_FAIL_ON = opts.failOn;
      if (opts.report) env.ASYNCDOCTOR_REPORT = resolve(opts.report);
      if (opts.loopBlockMs) env.ASYNCDOCTOR_LOOP_BLOCK_MS = opts.loopBlockMs;
      if (opts.stuckAfter) env.ASYNCDOCTOR_STUCK_AFTER_MS = opts.stuckAfter;
      const child = spawn(process.execPath, [...preloadArgs(file), file, ...args], { stdio: "inherit", env });
      // A signal sent to run's own pid (docker stop, systemd, kill) is passed on, so the program
      // shuts down and prints its report. Ctrl-C at a terminal already reached the child (the
      // terminal signals the whole foreground process group): passing it on as well would be a
      // second Ctrl-C, which many programs take as "force quit".
      const fromTerminal = process.stdin.isTTY === true;
      const forward = (signal: NodeJS.Signals) => {
        if (signal === "SIGINT" && fromTerminal) return;
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      };
      for (const s of FORWARDED) process.on(s, forward);
      const code = await new Promise<number>((done) => {
        child.on("exit", (c, signal) => done(c ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1)));
        child.on("error", (err) => {
          process.stderr.write(`asyncdoctor run: could not start node: ${err.message}\n`);
          done(2);
        });
      });
      for (const s of FORWARDED) process.off(s, forward);
      setCode(code);
    });
}
