/**
 * The asyncdoctor command: `demo`, `check`, `run`. Each subcommand lives in its own file.
 */
import { Command, CommanderError } from "commander";
import { registerDemo } from "./demo.js";
import { registerRun } from "./run.js";
import { registerCheck, version } from "./check.js";

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("asyncdoctor")
    .description("Find and prevent async bugs in Node.js")
    .version(version(), "-V, --version", "print asyncdoctor's version")
    .exitOverride()
    .showHelpAfterError();
  let code = 0;
  const setCode = (c: number) => {
    code = c;
  };
  registerDemo(program, setCode);
  registerRun(program, setCode);
  registerCheck(program, setCode);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return code;
}
