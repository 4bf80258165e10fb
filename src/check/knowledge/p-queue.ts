/** p-queue: `queue.add(fn)` runs fn in one of the queue's `concurrency` slots (all at once when unset). */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";

export const pQueueKnowledge: PackageKnowledge = {
  name: "p-queue",
  packages: ["p-queue"],
  // emitted when the queue becomes idle or empty: a queue that already is emits nothing (onIdle() checks first)
  stateEvents: ["idle", "empty"],
  methods: new Set(["add"]),
  recognise({ call, method, typeName }): Recognised | undefined {
    return typeName === "PQueue" && method === "add" ? { kind: "queue", mode: "scoped", callback: call.arguments[0] } : undefined;
  },
};
