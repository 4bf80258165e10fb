import "../sync/with-await-graph.js";
// The user's program, unchanged, with instrumentation preloaded as debug mode does it: the
// report names the user's own lock, by its variable and line.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("instrumentation preloaded before the program", () => {
  it("reports a re-entrant acquire on the program's own async-mutex, named after its variable", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "--import", fixture("preload.ts"), fixture("bank-app.mts")], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    // caught by the program: the error says it (a caught DeadlockError is not printed to stderr too)
    // (the fixture is not compiled with the await-graph transform: the drain proves it)
    assert.match(r.stdout, /caught DeadlockError: .*mutex "accounts \(test\/instrument\/fixtures\/bank-app\.mts:5\)"/);
    assert.doesNotMatch(r.stderr, /PROVEN deadlock/);
    // the limiter that was used correctly got no finding
    assert.doesNotMatch(r.stderr, /audit \(/);
  });
});
