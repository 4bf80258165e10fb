// Preloaded by scripts/test.mjs: test files are compiled with the await-graph transform, as
// `asyncdoctor run` compiles a program, so a test that turns the graph on (debug mode) has
// the facts the deadlock proof needs. The graph itself stays off until a test starts it.
import { installAwaitTransform } from "../src/diagnose/await-loader.js";

installAwaitTransform({ start: false });
