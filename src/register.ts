/**
 * `node --import asyncdoctor/register app.js`: debug mode for the whole program. Settings come
 * from the environment (so `asyncdoctor run` can pass them to the child process):
 * `ASYNCDOCTOR_FAIL_ON=leaked-task,never-settled`, `ASYNCDOCTOR_REPORT=out.json`,
 * `ASYNCDOCTOR_LOOP_BLOCK_MS=50`.
 */
import { installAwaitTransform } from "./diagnose/await-loader.js";
import { enableDebugMode } from "./index.js";
import type { DebugModeOptions } from "./index.js";
import { parseFailOn } from "./diagnose/rule-ids.js";

// A copy of asyncdoctor loaded through the other module system (require() next to this import)
// shares the process-wide state (tasks, registry, configuration: core/process-wide.ts); the
// environment also starts it in debug mode, for what it sets up at load time.
process.env.ASYNCDOCTOR = process.env.ASYNCDOCTOR ? `${process.env.ASYNCDOCTOR},debug` : "debug";

const options: DebugModeOptions = {};
const failOn = process.env.ASYNCDOCTOR_FAIL_ON;
if (failOn) {
  try {
    options.failOn = parseFailOn(failOn, "ASYNCDOCTOR_FAIL_ON");
  } catch (err) {
    // a typo would make a gate that can never fail: stop before the program runs
    process.stderr.write(`asyncdoctor: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
const reportFile = process.env.ASYNCDOCTOR_REPORT;
if (reportFile) options.reportFile = reportFile;
const blockMs = Number(process.env.ASYNCDOCTOR_LOOP_BLOCK_MS);
if (Number.isFinite(blockMs) && blockMs > 0) options.loopBlockMs = blockMs;
// the program's modules, loaded after this one, are compiled so the await graph knows who awaits what
installAwaitTransform();
enableDebugMode(options);
