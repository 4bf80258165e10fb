// The throwaway server the PostgreSQL tests and the demo use: it starts on loopback, answers,
// and leaves nothing behind when stopped.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import pg from "pg";
import { pgForTests } from "./pg-helper.js";

const pgt = await pgForTests();

describe("throwaway PostgreSQL server", { skip: pgt.skip }, () => {
  after(() => pgt.stop());

  it("listens on loopback and answers queries", async () => {
    const url = new URL(pgt.server!.url);
    if (pgt.server!.throwaway) assert.equal(url.hostname, "127.0.0.1");
    const client = new pg.Client({ connectionString: pgt.server!.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number; addr: string | null }>("select 41 + 1 as n, inet_server_addr()::text as addr");
      assert.equal(rows[0]!.n, 42);
      if (pgt.server!.throwaway) assert.equal(rows[0]!.addr, "127.0.0.1/32");
    } finally {
      await client.end();
    }
  });

  it("is gone after stop(), with its directory", { skip: !pgt.server?.throwaway && "not a throwaway server" }, async () => {
    const { startPgServer } = await import("../../demos/pg-server.js");
    const r = await startPgServer();
    assert.ok("server" in r);
    const port = Number(new URL(r.server.url).port);
    assert.equal(existsSync(r.server.dir!), true);
    await r.server.stop();
    const client = new pg.Client({ host: "127.0.0.1", port, user: "asyncdoctor", database: "postgres", connectionTimeoutMillis: 2000 });
    await assert.rejects(client.connect(), /ECONNREFUSED/);
    assert.equal(existsSync(r.server.dir!), false, "its directory is removed");
  });
});

describe("without PostgreSQL", () => {
  const run = (env: Record<string, string | undefined>) =>
    spawnSync(process.execPath, ["--import", "tsx", "test/integrations/fixtures/pg-unavailable.ts"], {
      encoding: "utf8",
      env: { ...process.env, ASYNCDOCTOR_PG_URL: "", ASYNCDOCTOR_PG_BIN: "/nonexistent/bin", ...env },
    });

  it("skips locally, saying why on stderr", () => {
    const r = run({ CI: "" });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { skip: string; server: boolean };
    assert.equal(out.server, false);
    assert.match(out.skip, /^no PostgreSQL server: no PostgreSQL binaries found in ASYNCDOCTOR_PG_BIN=\/nonexistent\/bin/);
    assert.match(r.stderr, /SKIPPED PostgreSQL tests: no PostgreSQL binaries found/);
  });

  it("fails in CI instead of skipping", () => {
    const r = run({ CI: "true" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /PostgreSQL is required in CI and none could be started: no PostgreSQL binaries found/);
  });
});
