// A PostgreSQL server for the integration tests. Locally, without one, the tests skip with a
// message on stderr saying why; in CI (CI set) that is a failure instead: .ci/run installs it.
import { startPgServer } from "../../demos/pg-server.js";
import type { PgServer } from "../../demos/pg-server.js";

export interface PgForTests {
  /** The server, when there is one. */
  readonly server: PgServer | undefined;
  /** `describe`'s skip option: false, or why the tests cannot run. */
  readonly skip: string | false;
  stop(): Promise<void>;
}

export async function pgForTests(): Promise<PgForTests> {
  const r = await startPgServer();
  if ("server" in r) return { server: r.server, skip: false, stop: () => r.server.stop() };
  if (process.env.CI) throw new Error(`PostgreSQL is required in CI and none could be started: ${r.unavailable}`);
  process.stderr.write(`SKIPPED PostgreSQL tests: ${r.unavailable}\n`);
  return { server: undefined, skip: `no PostgreSQL server: ${r.unavailable}`, stop: async () => {} };
}
