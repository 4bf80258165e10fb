/** async-mutex: `Mutex` and `Semaphore` (and their interfaces): `runExclusive(fn)` holds for the callback, `acquire()` until its releaser is called. */
import type { PackageKnowledge, Recognised } from "./package-knowledge.js";

const KIND: Readonly<Record<string, "mutex" | "semaphore">> = {
  Mutex: "mutex",
  MutexInterface: "mutex",
  Semaphore: "semaphore",
  SemaphoreInterface: "semaphore",
};

export const asyncMutexKnowledge: PackageKnowledge = {
  name: "async-mutex",
  packages: ["async-mutex"],
  // `mutex.release()` ends a hold: the lock itself is not a resource to close
  notResources: Object.keys(KIND),
  unlockWaits: { Mutex: ["waitForUnlock"], MutexInterface: ["waitForUnlock"] },
  methods: new Set(["runExclusive", "acquire"]),
  recognise({ call, method, typeName }): Recognised | undefined {
    const kind = KIND[typeName];
    if (!kind) return undefined;
    if (method === "runExclusive") return { kind, mode: "scoped", callback: call.arguments[0] };
    if (method === "acquire") return { kind, mode: "handle" };
    return undefined;
  },
};
