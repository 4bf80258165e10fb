/**
 * `asyncdoctor demo [name] [--list]`: runs the seed's scenarios.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { moduleFileOf, packageRootOf } from "../core/site.js";
import type { Command } from "commander";
import { demos } from "../../demos/index.js";
import { consoleOutput } from "../../demos/demo.js";

export function registerDemo(program: Command, setCode: (code: number) => void): void {
  program
    .command("demo")
    .description("run the seed article's scenarios: the bug, asyncdoctor's report, the fix")
    .argument("[name]", "one demo (see --list)")
    .option("--list", "list the demos")
    .action(async (name: string | undefined, opts: { list?: boolean }) => {
      if (opts.list) {
        for (const d of demos) process.stdout.write(`${d.name.padEnd(22)} ${d.title}  (seed: ${d.seed})\n`);
        return;
      }
      const chosen = name === undefined ? demos : demos.filter((d) => d.name === name);
      if (chosen.length === 0) {
        process.stderr.write(`asyncdoctor demo: no demo named "${name}"; expected one of: ${demos.map((d) => d.name).join(", ")}\n`);
        setCode(2);
        return;
      }
      // the demos run compiled with the await-graph transform, as `asyncdoctor run` runs a program
      if (process.env.ASYNCDOCTOR_DEMO_CHILD !== "1" && (globalThis as { __asyncdoctor$?: unknown }).__asyncdoctor$ === undefined) {
        const root = packageRootOf(demoFile());
        const transform = join(root, "dist", "esm", "src", "transform.js");
        const bin = join(root, "bin", "asyncdoctor.js");
        const r = spawnSync(process.execPath, ["--import", pathToFileURL(transform).href, bin, "demo", ...(name === undefined ? [] : [name])], {
          stdio: "inherit",
          env: { ...process.env, ASYNCDOCTOR_DEMO_CHILD: "1" },
        });
        setCode(r.status ?? 1);
        return;
      }
      for (const d of chosen) {
        process.stdout.write(`\n=== ${d.name}: ${d.title} (seed: ${d.seed}) ===\n`);
        await d.run(consoleOutput());
      }
      process.stdout.write(`\n${chosen.length} demo(s) done.\n`);
    });
}

/** This file (read from the stack: the CommonJS build has no import.meta). */
function demoFile(): string {
  return moduleFileOf(demoFile);
}
