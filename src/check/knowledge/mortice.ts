/**
 * mortice: `mortice(options)` gives a read-write lock (one per `name`, shared by every instance
 * of that name): `await lock.readLock()` holds a shared read until the release it resolves to is
 * called, `await lock.writeLock()` an exclusive write. A write asked for under a read of the same
 * lock waits for that read to end.
 */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";

export const morticeKnowledge: PackageKnowledge = {
  name: "mortice",
  packages: ["mortice"],
  methods: new Set(["readLock", "writeLock"]),
  recognise({ method, typeName }): Recognised | undefined {
    if (typeName !== "Mortice") return undefined;
    if (method === "readLock") return { kind: "rwlock", mode: "handle", shared: true };
    if (method === "writeLock") return { kind: "rwlock", mode: "handle", shared: false };
    return undefined;
  },
};
