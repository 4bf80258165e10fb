// Imported first by the tests of debug-mode detection: debug mode turns the await graph on,
// and the test files are compiled with its transform (scripts/test.mjs preloads it), so
// deadlocks are proven at once, as under `asyncdoctor run`.
import { configure } from "../../src/core/config.js";

configure({ mode: "debug" });
