/**
 * What `asyncdoctor run` preloads in the program's process besides debug mode itself: a clear
 * message for a TypeScript syntax error, and the `--stuck-after` watchdog (its setting comes in
 * `ASYNCDOCTOR_STUCK_AFTER_MS`).
 */
import "./syntax-errors.js";
import { installDebugReach } from "./debug-reach.js";
import { setStuckThreshold, startStuckWatchdog } from "./stuck-awaits.js";

const stuckAfter = Number(process.env.ASYNCDOCTOR_STUCK_AFTER_MS);
if (Number.isFinite(stuckAfter) && stuckAfter > 0) {
  // the same threshold for the reports made at exit, on a signal and in a dump
  setStuckThreshold(stuckAfter);
  startStuckWatchdog(stuckAfter);
}
// until enableDebugMode() installs it itself (idempotent, so both may)
installDebugReach();
