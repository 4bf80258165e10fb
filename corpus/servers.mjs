// Throwaway database servers for the corpus cases: PostgreSQL, Redis and MariaDB (Debian's
// packages), each started on a free loopback port in its own temporary directory and removed
// when stopped. A server that cannot be started is reported with the reason; the cases that need
// it are then skipped, not failed. Nothing here is part of the asyncdoctor package.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** @returns {Promise<number>} a port that was free a moment ago */
function freePort() {
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

/** Resolves once something accepts TCP connections on the port, or rejects after `ms`. */
async function waitForPort(port, ms, what) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = createConnection({ host: "127.0.0.1", port });
      c.once("connect", () => {
        c.destroy();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`${what} did not accept connections on port ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function systemUser(name) {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

function pgBin() {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const v = readdirSync(root)
    .filter((x) => existsSync(join(root, x, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a))[0];
  return v ? join(root, v, "bin") : undefined;
}

async function startPostgres() {
  const bin = pgBin();
  if (!bin) throw new Error("no PostgreSQL under /usr/lib/postgresql (Debian package `postgresql`)");
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? systemUser("postgres") : undefined;
  if (asRoot && !user) throw new Error("running as root and there is no `postgres` user to run PostgreSQL as");
  const dir = mkdtempSync(join(tmpdir(), "corpus-pg-"));
  if (user) chownSync(dir, user.uid, user.gid);
  const run = (file, args) => {
    const [cmd, argv] = user ? ["/usr/sbin/runuser", ["-u", "postgres", "--", join(bin, file), ...args]] : [join(bin, file), args];
    execFileSync(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  };
  const data = join(dir, "data");
  run("initdb", ["-D", data, "-U", "corpus", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
  const port = await freePort();
  run("pg_ctl", [
    "start",
    "-D",
    data,
    "-l",
    join(dir, "log"),
    "-w",
    "-t",
    "60",
    "-o",
    `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c deadlock_timeout=200ms`,
  ]);
  return {
    env: { CORPUS_PG_URL: `postgresql://corpus@127.0.0.1:${port}/postgres` },
    stop() {
      try {
        run("pg_ctl", ["stop", "-D", data, "-m", "immediate", "-w"]);
      } catch {
        // the directory goes anyway
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startRedis() {
  if (spawnSync("redis-server", ["--version"]).status !== 0) throw new Error("no redis-server (Debian package `redis-server`)");
  const dir = mkdtempSync(join(tmpdir(), "corpus-redis-"));
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await waitForPort(port, 10_000, "redis-server");
  return {
    env: { CORPUS_REDIS_URL: `redis://127.0.0.1:${port}` },
    stop() {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startMariadb() {
  if (!existsSync("/usr/sbin/mariadbd")) throw new Error("no /usr/sbin/mariadbd (Debian package `mariadb-server`)");
  const dir = mkdtempSync(join(tmpdir(), "corpus-mariadb-"));
  const data = join(dir, "data");
  execFileSync("mariadb-install-db", ["--no-defaults", `--datadir=${data}`, "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"], {
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 120_000,
  });
  const port = await freePort();
  const child = spawn(
    "/usr/sbin/mariadbd",
    [
      "--no-defaults",
      `--datadir=${data}`,
      `--socket=${join(dir, "sock")}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      "--user=root",
      "--skip-log-bin",
      "--innodb-lock-wait-timeout=5",
      `--pid-file=${join(dir, "pid")}`,
    ],
    { stdio: "ignore" },
  );
  await waitForPort(port, 30_000, "mariadbd");
  return {
    env: { CORPUS_MYSQL_URL: `mysql://root@127.0.0.1:${port}/mysql` },
    stop() {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const starters = { postgresql: startPostgres, redis: startRedis, mariadb: startMariadb };

/** The server kinds a case may list in `needs`. */
export const SERVER_KINDS = Object.keys(starters);

/**
 * Starts each named server. Returns the environment for the cases, the reason each one that
 * could not start is missing, and a stop() for the ones that did.
 */
export async function startServers(kinds) {
  const env = {};
  const missing = {};
  const running = [];
  for (const kind of kinds) {
    try {
      const s = await starters[kind]();
      running.push(s);
      Object.assign(env, s.env);
    } catch (err) {
      missing[kind] = String(err?.stderr || err?.message || err)
        .trim()
        .slice(0, 300);
    }
  }
  const stop = () => {
    for (const s of running.splice(0)) s.stop();
  };
  process.once("exit", stop);
  return { env, missing, stop };
}
