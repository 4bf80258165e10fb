// A throwaway MariaDB (or MySQL) server for the integration tests: mariadb-install-db into a
// temporary directory, mariadbd on a free loopback port (as the `mysql` user when run as root),
// stopped and deleted afterwards. ASYNCDOCTOR_MYSQL_URL is used as is when set. Locally,
// without a server, the tests skip with a message on stderr saying why; in CI (CI set) that is
// a failure instead: .ci/run installs Debian's mariadb-server.
import { execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface MysqlForTests {
  /** `mysql://root@127.0.0.1:port/test`, when there is a server. */
  readonly url: string | undefined;
  /** `describe`'s skip option: false, or why the tests cannot run. */
  readonly skip: string | false;
  stop(): Promise<void>;
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
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

function binary(...names: string[]): string | undefined {
  for (const n of names) for (const dir of ["/usr/sbin", "/usr/bin", "/usr/local/bin"]) if (existsSync(join(dir, n))) return join(dir, n);
  return undefined;
}

/** Resolves once the port accepts connections, or rejects when the server process ended. */
function listening(port: number, exited: Promise<string>): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    void exited.then((why) => {
      if (!done) {
        done = true;
        reject(new Error(why));
      }
    });
    const attempt = () => {
      if (done) return;
      const sock = createConnection({ port, host: "127.0.0.1" });
      sock.once("connect", () => {
        sock.destroy();
        done = true;
        resolve();
      });
      // not up yet: nothing to wait on but the port itself, so ask again shortly (as pg_ctl -w does)
      sock.once("error", () => setTimeout(attempt, 25));
    };
    attempt();
  });
}

async function start(): Promise<{ url: string; stop: () => Promise<void> } | { unavailable: string }> {
  const given = process.env.ASYNCDOCTOR_MYSQL_URL;
  if (given) return { url: given, stop: async () => {} };
  const install = binary("mariadb-install-db", "mysql_install_db");
  const server = binary("mariadbd", "mysqld");
  if (!install || !server)
    return { unavailable: "no mariadb-install-db / mariadbd found (install the Debian package `mariadb-server`, or set ASYNCDOCTOR_MYSQL_URL)" };
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? systemUser("mysql") : undefined;
  if (asRoot && !user) return { unavailable: "running as root, and there is no `mysql` user to run mariadbd as" };
  const dir = mkdtempSync(join(tmpdir(), "asyncdoctor-mysql-"));
  if (user) chownSync(dir, user.uid, user.gid);
  const userArgs = user ? ["--user=mysql"] : [];
  try {
    execFileSync(install, ["--no-defaults", `--datadir=${join(dir, "data")}`, "--auth-root-authentication-method=normal", "--skip-test-db", ...userArgs], {
      stdio: "pipe",
      timeout: 120_000,
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { unavailable: `mariadb-install-db failed: ${String((err as { stderr?: unknown }).stderr ?? err).slice(0, 400)}` };
  }
  const port = await freePort();
  const child = spawn(
    server,
    [
      "--no-defaults",
      `--datadir=${join(dir, "data")}`,
      `--socket=${join(dir, "mysqld.sock")}`,
      `--pid-file=${join(dir, "mysqld.pid")}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      "--skip-name-resolve",
      "--innodb-buffer-pool-size=16M",
      "--innodb-log-file-size=8M",
      "--skip-log-bin",
      ...userArgs,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(`mariadbd exited (${code ?? signal}): ${stderr.slice(-400)}`)));
  const stopNow = () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  // a test run that dies must not leave a server behind
  process.once("exit", stopNow);
  try {
    await listening(port, exited);
  } catch (err) {
    process.removeListener("exit", stopNow);
    stopNow();
    return { unavailable: String((err as Error).message) };
  }
  return {
    url: `mysql://root@127.0.0.1:${port}/mysql`,
    stop: async () => {
      process.removeListener("exit", stopNow);
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function mysqlForTests(): Promise<MysqlForTests> {
  const r = await start();
  if ("url" in r) return { url: r.url, skip: false, stop: r.stop };
  if (process.env.CI) throw new Error(`MariaDB/MySQL is required in CI and none could be started: ${r.unavailable}`);
  process.stderr.write(`SKIPPED MariaDB tests: ${r.unavailable}\n`);
  return { url: undefined, skip: `no MariaDB/MySQL server: ${r.unavailable}`, stop: async () => {} };
}
