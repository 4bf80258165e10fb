/**
 * The shape of a demo: one seed scenario, shown as the bug, asyncdoctor's report, and the fix.
 *
 * Convention (the static checker's demo test relies on it): in each demo file, the buggy code
 * lives in functions whose names start with `bug` and the corrected code in functions whose
 * names start with `fixed`. `asyncdoctor check demos/` must report inside every `bug…`
 * function of a static-checkable scenario and nowhere inside a `fixed…` function.
 */
import type { Diagnosis } from "../src/index.js";
import { renderText } from "../src/index.js";

/** Where a demo writes; the CLI prints it, the tests capture it. */
export interface DemoOutput {
  /** A heading: "the bug", "asyncdoctor's report", "the fix". */
  section(title: string): void;
  /** A line of narration. */
  log(line: string): void;
  /** A finding, rendered as asyncdoctor renders it. */
  diagnosis(d: Diagnosis): void;
}

/** One demo. */
export interface Demo {
  /** Short id used by `asyncdoctor demo <name>`. */
  readonly name: string;
  /** One line on what it shows. */
  readonly title: string;
  /** The part of the seed article it answers. */
  readonly seed: string;
  /**
   * Runs the demo. Returns the Diagnoses it produced, so tests can check that the bug half is
   * reported and the fixed half is not.
   */
  run(out: DemoOutput): Promise<{ bug: readonly Diagnosis[]; fixed: readonly Diagnosis[] }>;
}

/** An output that prints to stdout. */
export function consoleOutput(): DemoOutput {
  return {
    section: (title) => process.stdout.write(`\n  -- ${title} --\n`),
    log: (line) => process.stdout.write(`  ${line}\n`),
    diagnosis: (d) => process.stdout.write(`${renderText(d, { color: false }).trimEnd().replace(/^/gm, "    ")}\n\n`),
  };
}

/** An output that records everything (tests). */
export function memoryOutput(): DemoOutput & { readonly text: string } {
  const lines: string[] = [];
  return {
    section: (title) => lines.push(`-- ${title} --`),
    log: (line) => lines.push(line),
    diagnosis: (d) => lines.push(renderText(d, { color: false, sourceLines: false })),
    get text() {
      return lines.join("\n");
    },
  };
}
