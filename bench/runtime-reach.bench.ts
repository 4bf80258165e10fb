/**
 * What the runtime doctor's reach costs in debug mode, side by side with no instrumentation:
 * - awaits that really suspend (each on a promise still pending when awaited, settled a
 *   microtask later): each is recorded, weakly held and registered for the collected-while-
 *   pending proof; the figure is what a suspension costs with promise tracking on;
 * - EventEmitter emits and listener registrations with the emitter watch on (the stuck-awaits
 *   report's "could be settled by event …");
 * - creating and closing fs streams with Node's own resources observed (a stack per creation).
 */
import { EventEmitter } from "node:events";
import { createReadStream } from "node:fs";
import { once } from "node:events";
import { compare } from "./harness.js";
import { trackPromises } from "../src/diagnose/promise-tracking.js";
import { watchEmitters } from "../src/diagnose/emitter-watch.js";
import { observeNodeResources } from "../src/diagnose/node-resources.js";

async function suspends(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => queueMicrotask(resolve));
  }
}

const N = 2e5;
const tracked = async () => {
  const stop = trackPromises();
  try {
    await suspends(N);
  } finally {
    stop();
  }
};

function emits(n: number): void {
  const e = new EventEmitter();
  let sum = 0;
  e.on("tick", (i: number) => (sum += i));
  for (let i = 0; i < n; i++) {
    e.emit("tick", i);
    if (i % 100 === 0) {
      const f = () => {};
      e.on("other", f);
      e.off("other", f);
    }
  }
  if (sum < 0) throw new Error("unreachable");
}
const E = 1e6;
const watched = () => {
  const stop = watchEmitters();
  try {
    emits(E);
  } finally {
    stop();
  }
};

const S = 200;
async function streams(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const s = createReadStream("package.json");
    s.resume();
    await once(s, "close");
  }
}
const observed = async () => {
  const stop = observeNodeResources();
  try {
    await streams(S);
  } finally {
    stop();
  }
};

await compare(
  [
    { label: "promise tracking, 2e5 awaits that suspend", ours: tracked, peer: () => suspends(N), peerName: "no instrumentation" },
    { label: "emitter watch, 1e6 emits (+1e4 listener adds)", ours: watched, peer: () => emits(E), peerName: "no instrumentation" },
    { label: "Node resources observed, 200 fs streams opened and read", ours: observed, peer: () => streams(S), peerName: "no instrumentation" },
  ],
  { time: 400, rounds: 3, iterations: 4 },
);
