// docs/channels.md is the contract APM tools code against: every channel it documents exists,
// and each message carries exactly the fields documented, with the documented types.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import { channelNames } from "../../src/core/channels.js";
import { addCollector, createDiagnosis, report } from "../../src/core/diagnosis.js";
import { TaskRecord } from "../../src/core/task.js";
import { TaskTracker } from "../../src/tasks/task-tracker.js";
import { collecting, deferred } from "../helpers.js";
import { Mutex, Semaphore, RWLock, Pool } from "../../src/sync/index.js";

/** channel name → documented fields (name → type text), read from the doc's tables. */
function documented(): Map<string, Map<string, string>> {
  const doc = readFileSync(new URL("../../docs/channels.md", import.meta.url), "utf8");
  const out = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of doc.split("\n")) {
    const h = /^### `(asyncdoctor:[a-z:]+)`/.exec(line);
    if (h) out.set(h[1]!, (current = new Map<string, string>()));
    else if (/^## /.test(line)) current = undefined;
    else if (current) {
      const row = /^\| `(\w+)` \| `([^`]+)` \|/.exec(line);
      if (row) current.set(row[1]!, row[2]!.replace(/\\\|/g, "|"));
    }
  }
  return out;
}

/** Checks a value against a documented type text such as `TaskRecord \| undefined`. */
function matches(value: unknown, type: string): boolean {
  return type
    .split("|")
    .map((t) => t.trim())
    .some((t) => {
      if (t === "undefined") return value === undefined;
      if (t === "unknown") return true;
      if (t === "string" || t === "number") return typeof value === t;
      if (/^".*"$/.test(t)) return value === JSON.parse(t);
      if (t === "TaskRecord") return value instanceof TaskRecord;
      if (t.endsWith("[]")) return Array.isArray(value);
      if (t === "WaitTarget")
        return (
          typeof value === "object" &&
          value !== null &&
          typeof (value as { name?: unknown }).name === "string" &&
          typeof (value as { kind?: unknown }).kind === "string"
        );
      if (t === "Site") return typeof value === "object" && value !== null && "file" in value && "line" in value;
      if (t.startsWith("Record<")) return typeof value === "object" && value !== null;
      throw new Error(`the test does not know the documented type ${t}`);
    });
}

function checkMessage(channel: string, message: unknown): void {
  const fields = documented().get(channel);
  assert.ok(fields, `${channel} is documented`);
  assert.equal(typeof message, "object");
  const m = message as Record<string, unknown>;
  for (const key of Object.keys(m)) assert.ok(fields.has(key), `${channel}: field "${key}" is published but not documented`);
  for (const [key, type] of fields) {
    assert.ok(matches(m[key], type), `${channel}: field "${key}" should be ${type}, got ${String(m[key])}`);
  }
}

function record(names: string[], onMessage: (name: string, m: unknown) => void = () => {}): { messages: Array<[string, unknown]>; stop: () => void } {
  const messages: Array<[string, unknown]> = [];
  const subs = names.map((n) => [n, (m: unknown) => (messages.push([n, m]), onMessage(n, m))] as const);
  for (const [n, fn] of subs) diagnosticsChannel.subscribe(n, fn);
  return { messages, stop: () => subs.forEach(([n, fn]) => diagnosticsChannel.unsubscribe(n, fn)) };
}

describe("diagnostics channels, as docs/channels.md documents them", () => {
  it("documents every channel there is, and no other", () => {
    assert.deepEqual([...documented().keys()].sort(), Object.values(channelNames).sort());
  });

  it("task:spawn and task:settle carry the documented fields for fulfilled, rejected and cancelled tasks", async () => {
    const statesAtSpawn: string[] = [];
    const rec = record([channelNames.taskSpawn, channelNames.taskSettle], (n, m) => {
      if (n === channelNames.taskSpawn) statesAtSpawn.push((m as { task: TaskRecord }).task.state);
    });
    try {
      const tracker = new TaskTracker();
      await tracker.spawn(async () => 1, { name: "ok" });
      await tracker.spawn(() => Promise.reject(new Error("no")), { name: "bad" }).catch(() => {});
      const c = tracker.spawn((signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))), { name: "stopped" });
      c.abort();
      await c.catch(() => {});
    } finally {
      rec.stop();
    }
    assert.equal(rec.messages.length, 6);
    for (const [channel, m] of rec.messages) checkMessage(channel, m);
    const settles = rec.messages.filter(([n]) => n === channelNames.taskSettle).map(([, m]) => m as { state: string; error: unknown; task: TaskRecord });
    assert.deepEqual(
      settles.map((s) => [s.task.name, s.state, s.error instanceof Error || s.error === undefined]),
      [
        ["ok", "fulfilled", true],
        ["bad", "rejected", true],
        ["stopped", "cancelled", true],
      ],
    );
    assert.deepEqual(statesAtSpawn, ["pending", "pending", "pending"]);
  });

  it("task:spawn is published before the task's body runs", async () => {
    const order: string[] = [];
    const rec = record([channelNames.taskSpawn], () => order.push("spawn"));
    try {
      await new TaskTracker().spawn(async () => void order.push("body"), { name: "t" });
    } finally {
      rec.stop();
    }
    assert.deepEqual(order, ["spawn", "body"]);
  });

  it("diagnosis carries the Diagnosis with the documented fields, after onDiagnosis saw it", async () => {
    const rec = record([channelNames.diagnosis]);
    const seen: string[] = [];
    const remove = addCollector((d) => seen.push(d.id));
    try {
      await collecting(async () => {
        report(
          createDiagnosis({
            rule: "timeout",
            certainty: "observed",
            summary: "s",
            subjects: [{ kind: "task", name: "t" }],
            fix: "f",
            steps: [{ text: "x" }],
            data: { ms: 1 },
          }),
        );
      });
    } finally {
      remove();
      rec.stop();
    }
    assert.equal(rec.messages.length, 1);
    checkMessage(channelNames.diagnosis, rec.messages[0]![1]);
    assert.deepEqual(seen, [(rec.messages[0]![1] as { id: string }).id]);
  });
});

describe("lock channels, as docs/channels.md documents them", () => {
  const lockChannels = [channelNames.lockWait, channelNames.lockAcquire, channelNames.lockRelease, channelNames.lockAbandon];

  it("wait, acquire, release carry the documented fields for a mutex, a semaphore, an RWLock and a pool", async () => {
    const rec = record(lockChannels);
    try {
      const m = new Mutex({ name: "m" });
      const s = new Semaphore(2, { name: "s" });
      const rw = new RWLock({ name: "rw" });
      const p = new Pool({ name: "p", max: 1, create: () => ({}) });
      const tracker = new TaskTracker();
      const gate = deferred();
      const holder = tracker.spawn(() => m.runExclusive(() => gate.promise), { name: "holder" });
      const waiter = tracker.spawn(() => m.runExclusive(() => 1), { name: "waiter" });
      gate.resolve();
      await Promise.all([holder, waiter]);
      (await s.acquire({ permits: 2 })).release();
      (await rw.acquireRead()).release();
      (await rw.acquireWrite()).release();
      await p.use(() => 1);
    } finally {
      rec.stop();
    }
    const kinds = rec.messages.map(([n, m]) => `${n.split(":").pop()} ${(m as { lock: { name: string } }).lock.name}`);
    assert.deepEqual(kinds, [
      "acquire m",
      "wait m",
      "release m",
      "acquire m",
      "release m",
      "acquire s",
      "release s",
      "acquire rw",
      "release rw",
      "acquire rw",
      "release rw",
      "acquire p",
      "release p",
    ]);
    for (const [channel, m] of rec.messages) checkMessage(channel, m);
    const modes = rec.messages.filter(([, m]) => (m as { lock: { name: string } }).lock.name === "rw").map(([, m]) => (m as { mode?: string }).mode);
    assert.deepEqual(modes.slice(0, 1), ["read"]);
  });

  it("abandon carries the documented fields when a wait times out or is aborted", async () => {
    const rec = record(lockChannels);
    const m = new Mutex({ name: "busy" });
    const lease = await m.acquire();
    try {
      await assert.rejects(m.acquire({ timeout: 1 }));
      const ac = new AbortController();
      const aborted = m.acquire({ signal: ac.signal });
      ac.abort();
      await assert.rejects(aborted);
    } finally {
      lease.release();
      rec.stop();
    }
    const abandons = rec.messages.filter(([n]) => n === channelNames.lockAbandon);
    assert.deepEqual(
      abandons.map(([, msg]) => (msg as { reason: string }).reason),
      ["timeout", "abort"],
    );
    for (const [channel, msg] of rec.messages) checkMessage(channel, msg);
    // every wait ends in exactly one acquire or abandon
    assert.equal(rec.messages.filter(([n]) => n === channelNames.lockWait).length, 2);
  });
});
