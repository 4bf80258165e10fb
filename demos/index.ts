/**
 * Every demo, in the seed article's order.
 */
import type { Demo } from "./demo.js";

/** The demos `npm run demo` runs, in order. Each issue's demos are added here. */
export const demos: readonly Demo[] = [];
