/**
 * The asyncdoctor command: `demo`, `check`, `run`. Each subcommand lives in its own file.
 */
import { Command, CommanderError } from "commander";
import { registerDemo } from "./demo.js";
import { registerRun } from "./run.js";
import { installHint, missingPeer } from "./optional-peer.js";
import { packageInfo } from "../core/package-info.js";

/**
 * Registers `check`. The checker loads TypeScript, an optional peer dependency, so it is
 * imported only here; without TypeScript, `check` says how to install it.
 */
async function registerCheckCommand(program: Command, setCode: (code: number) => void): Promise<void> {
  try {
    const { registerCheck } = await import("./check.js");
    registerCheck(program, setCode);
  } catch (err) {
    if (missingPeer(err) !== "typescript") throw err;
    program
      .command("check")
      .description("find async bugs in TypeScript source before they run (needs the typescript package)")
      .allowUnknownOption()
      .allowExcessArguments()
      .argument("[args...]")
      .action(() => {
        process.stderr.write(installHint("typescript"));
        setCode(2);
      });
  }
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("asyncdoctor")
    .description("Find and prevent async bugs in Node.js")
    .version(packageInfo().version, "-V, --version", "print asyncdoctor's version")
    .exitOverride()
    .showHelpAfterError();
  let code = 0;
  const setCode = (c: number) => {
    code = c;
  };
  registerDemo(program, setCode);
  registerRun(program, setCode);
  await registerCheckCommand(program, setCode);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    // help and --version exit 0; a usage error (an unknown flag or command) is exit 2, as `check`'s are
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    // `run` on a .ts file without tsx installed
    const peer = missingPeer(err);
    if (peer !== undefined) {
      process.stderr.write(installHint(peer));
      return 2;
    }
    throw err;
  }
  return code;
}
