/**
 * `node --import asyncdoctor/transform app.js`: compiles the program's own modules with the
 * await-graph transform (diagnose/await-transform.ts) without turning on the rest of debug
 * mode. The graph records once debug mode is on (`configure({ mode: "debug" })`), so the
 * deadlocks of code that awaits a lock are proven the moment they form. `asyncdoctor run` and
 * `asyncdoctor/register` include it.
 */
import { installAwaitTransform } from "./diagnose/await-loader.js";

installAwaitTransform({ start: false });
