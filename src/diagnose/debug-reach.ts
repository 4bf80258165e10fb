/**
 * The parts of debug mode that reach into the program's code as it is, with no change to it:
 * Node's own resources observed with no track() call, and listeners and emits recorded so a
 * stuck await can say which event would settle it. `asyncdoctor run` installs them in the
 * child; `enableDebugMode()` is meant to call {@link installDebugReach} too.
 */
import { watchEmitters } from "./emitter-watch.js";
import { observeNodeResources } from "./node-resources.js";

/**
 * Installs the reach of debug mode (idempotent). Returns a function that removes it.
 *
 * @example
 * ```ts
 * const stop = installDebugReach();
 * ```
 */
export function installDebugReach(): () => void {
  const stops = [observeNodeResources(), watchEmitters()];
  return () => {
    for (const s of stops) s();
  };
}
