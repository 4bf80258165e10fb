/**
 * Seed 1.1/demo 1, at the level of a whole program: it ends while work is still pending, and
 * nothing says so. Run with `asyncdoctor run` (or `--import asyncdoctor/register`), the exit
 * report names each task still pending, what it waits on, and the await that can never settle.
 * This demo runs demos/programs/exit-with-pending in a child process, in debug mode.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Diagnosis } from "../src/index.js";
import type { Demo } from "./demo.js";

/** This file's path (the demos are also compiled to CommonJS, where import.meta does not exist). */
function thisFile(): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, thisFile);
  const m = /(file:\/\/[^\s()]+|\/[^\s():]+)\.([cm]?[jt]s):\d+:\d+/.exec(holder.stack ?? "");
  if (!m) throw new Error("exit-with-pending demo: cannot locate its own file");
  const file = `${m[1]}.${m[2]}`;
  return file.startsWith("file://") ? fileURLToPath(file) : file;
}

/** Runs the program in debug mode; returns its output and the Diagnoses of its exit report. */
function runProgram(which: "bug" | "fixed"): { stdout: string; found: Diagnosis[] } {
  const self = thisFile();
  const here = dirname(self);
  // from src (tsx, in the tests) or from dist (the CLI)
  const isTs = self.endsWith(".ts");
  const program = join(here, "programs", `exit-with-pending.${isTs ? "ts" : "js"}`);
  const register = pathToFileURL(join(here, "..", "src", `register.${isTs ? "ts" : "js"}`)).href;
  const args = isTs ? ["--import", pathToFileURL(createRequire(self).resolve("tsx")).href] : [];
  const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-demo-"));
  try {
    const reportFile = join(dir, "report.json");
    const env: NodeJS.ProcessEnv = { ...process.env, ASYNCDOCTOR: "debug", ASYNCDOCTOR_REPORT: reportFile, NO_COLOR: "1" };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, ["--enable-source-maps", ...args, "--import", register, program, which], { encoding: "utf8", env });
    const doc = JSON.parse(readFileSync(reportFile, "utf8")) as { diagnoses: Diagnosis[] };
    return { stdout: r.stdout.trim(), found: doc.diagnoses };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const exitWithPending: Demo = {
  name: "exit-with-pending",
  title: "a program that ends with work pending: the exit report names it and the stuck await",
  seed: "1.1, demo 1 (at program exit)",
  async run(out) {
    out.section("the bug: main() returns while an upload waits for an ack that never comes");
    const bugRun = runProgram("bug");
    out.log(`program output: ${bugRun.stdout}`);
    out.log("without asyncdoctor the process just ends: exit code 0, the upload silently lost");
    out.section("asyncdoctor's exit report (asyncdoctor run / --import asyncdoctor/register)");
    for (const d of bugRun.found) out.diagnosis(d);

    out.section("the fix: a deadline for the ack, and shut the tracker down before the end");
    const fixedRun = runProgram("fixed");
    out.log(`program output: ${fixedRun.stdout}`);
    out.log(`exit report: ${fixedRun.found.length} finding(s)`);
    return { bug: bugRun.found, fixed: fixedRun.found };
  },
};
