/**
 * Seed pitfall 3: a session (aiohttp.ClientSession in the seed) that is opened and never closed.
 * Its sockets stay open until the garbage collector happens to run, and nothing says which code
 * forgot to close it. asyncdoctor's `track()` turns the collection of an unclosed resource into
 * a *proven* leak, reported with the line that opened it.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { track } from "../src/index.js";
import { addCollector } from "../src/hooks.js";
import type { Diagnosis } from "../src/index.js";
import { collect } from "./collect.js";
import type { Demo } from "./demo.js";

/** A stand-in for an HTTP client session holding a connection pool. */
class ClientSession {
  open = true;
  async get(path: string): Promise<string> {
    await Promise.resolve();
    return `200 OK ${path}`;
  }
  async close(): Promise<void> {
    this.open = false;
  }
}

/** The bug: the session is created per call and never closed. */
async function bugFetchUser(id: number): Promise<string> {
  const session = track(new ClientSession(), { name: "github-session" });
  return session.get(`/users/${id}`);
}

/** The fix: `await using` closes it at the end of the scope, whatever happens. */
async function fixedFetchUser(id: number): Promise<string> {
  await using session = track(new ClientSession(), { name: "github-session" });
  return session.get(`/users/${id}`);
}

/** The collector's entry point, exposed without restarting node with --expose-gc. */
function gcFunction(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/** Collects garbage until the sessions' fate is known: each round lets finalizers run. */
async function collectGarbage(found: readonly Diagnosis[], expected: number): Promise<void> {
  const gc = gcFunction();
  for (let i = 0; i < 50 && found.length < expected; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

export const unclosedSession: Demo = {
  name: "unclosed-session",
  title: "a session never closed: a proven leak when it is garbage-collected",
  seed: "pitfall 3",
  async run(out) {
    out.section("the bug: a session per request, never closed");
    const { found: bug } = await collect(async () => {
      const found: Diagnosis[] = [];
      const stop = addCollector((d) => found.push(d));
      out.log(await bugFetchUser(1));
      out.log("the response came back; the session's connections stay open until the GC runs, silently");
      await collectGarbage(found, 1);
      stop();
    });
    out.section("asyncdoctor's report: the session was collected without being closed");
    for (const d of bug) out.diagnosis(d);

    out.section("the fix: `await using` closes it at the end of the scope");
    const { found: fixed } = await collect(async () => {
      out.log(await fixedFetchUser(1));
      await collectGarbage([], 5); // give the collector several rounds: nothing is reported
    });
    out.log(`reports: ${fixed.length}`);
    return { bug, fixed };
  },
};
