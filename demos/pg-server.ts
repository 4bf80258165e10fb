/**
 * A throwaway PostgreSQL server for the demos and tests: initdb into a temporary directory,
 * start it on a free loopback port, stop it and delete everything afterwards.
 *
 * A connection string in ASYNCDOCTOR_PG_URL is used as is (no server is started);
 * ASYNCDOCTOR_PG_BIN picks the directory of the binaries (default: the newest under
 * /usr/lib/postgresql, else `pg_config --bindir`). Postgres
 * refuses to run as root, so as root the server runs as the `postgres` system user (through
 * `runuser`). Nothing here is part of the library.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A server to connect to. */
export interface PgServer {
  /** `postgresql://user@127.0.0.1:port/postgres` */
  readonly url: string;
  /** True when this process started it (and `stop()` will remove it). */
  readonly throwaway: boolean;
  /** The throwaway server's directory (data, socket, log). */
  readonly dir: string | undefined;
  stop(): Promise<void>;
}

/** Either a server, or the reason there is none. */
export type PgServerResult = { readonly server: PgServer } | { readonly unavailable: string };

/** The directory of the newest installed PostgreSQL binaries (Debian layout), or PATH's. */
export function findPgBin(): string | undefined {
  const chosen = process.env.ASYNCDOCTOR_PG_BIN;
  if (chosen) return existsSync(join(chosen, "initdb")) ? chosen : undefined;
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], "bin");
  }
  const r = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  const dir = r.status === 0 ? r.stdout.trim() : "";
  return dir && existsSync(join(dir, "initdb")) ? dir : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function systemUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${name}:`));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(":");
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

/**
 * A server: ASYNCDOCTOR_PG_URL when set, else a throwaway one started now. Never throws: when
 * no server can be had, says why.
 */
export async function startPgServer(): Promise<PgServerResult> {
  const given = process.env.ASYNCDOCTOR_PG_URL;
  if (given) return { server: { url: given, throwaway: false, dir: undefined, stop: async () => {} } };
  const bin = findPgBin();
  if (!bin) {
    const where = process.env.ASYNCDOCTOR_PG_BIN ? `in ASYNCDOCTOR_PG_BIN=${process.env.ASYNCDOCTOR_PG_BIN}` : "under /usr/lib/postgresql or through pg_config";
    return { unavailable: `no PostgreSQL binaries found ${where} (install the Debian package \`postgresql\`, or set ASYNCDOCTOR_PG_URL to a server)` };
  }
  const asRoot = process.getuid?.() === 0;
  const pgUser = asRoot ? systemUser("postgres") : undefined;
  if (asRoot && (!pgUser || !existsSync("/usr/sbin/runuser"))) {
    return { unavailable: "running as root, and there is no `postgres` user or no `runuser` to start PostgreSQL as (it refuses root)" };
  }
  const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-pg-"));
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  if (pgUser) {
    chownSync(dir, pgUser.uid, pgUser.gid);
    chmodSync(dir, 0o700);
  }
  const run = (file: string, args: string[]) => {
    const [cmd, argv] = pgUser ? ["/usr/sbin/runuser", ["-u", "postgres", "--", join(bin, file), ...args]] : [join(bin, file), args];
    execFileSync(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  };
  const user = "asyncdoctor";
  try {
    run("initdb", ["-D", data, "-U", user, "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { unavailable: `initdb failed: ${stderrOf(err)}` };
  }
  let port = 0;
  let started = false;
  let lastError = "";
  // another process may take the free port between the check and the start: try a few
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freePort();
    try {
      run("pg_ctl", [
        "start",
        "-D",
        data,
        "-l",
        log,
        "-w",
        "-t",
        "60",
        "-o",
        `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      ]);
      started = true;
    } catch (err) {
      lastError = stderrOf(err) + (existsSync(log) ? ` ${readFileSync(log, "utf8").slice(-500)}` : "");
    }
  }
  if (!started) {
    rmSync(dir, { recursive: true, force: true });
    return { unavailable: `pg_ctl start failed: ${lastError}` };
  }
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    try {
      run("pg_ctl", ["stop", "-D", data, "-m", "immediate", "-w"]);
    } catch {
      // the directory goes anyway; a server without its data directory exits on its own
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // a test run that dies must not leave a server behind
  process.once("exit", stopNow);
  return {
    server: {
      url: `postgresql://${user}@127.0.0.1:${port}/postgres`,
      throwaway: true,
      dir,
      stop: async () => {
        process.removeListener("exit", stopNow);
        stopNow();
      },
    },
  };
}

function stderrOf(err: unknown): string {
  const e = err as { stderr?: Buffer | string; message?: string };
  const s = e.stderr ? String(e.stderr).trim() : "";
  return (s || e.message || String(err)).slice(0, 500);
}
