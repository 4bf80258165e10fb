/**
 * asyncdoctor's own primitives: Mutex, Semaphore, RWLock, Pool, the p-limit-compatible limiter
 * and `lockAll([a, b], fn)`. A call given the function to run is scoped, else a handle acquire.
 */
import ts from "typescript";
import { skipOuter } from "../analysis/own-flow.js";
import type { LockKind, PackageKnowledge, Recognised } from "./package-knowledge.js";
import { isCallable } from "./package-knowledge.js";

// the method names of its RWLock and Pool, and their likely aliases
const READ = ["runRead", "read", "runShared", "acquireRead", "readLock"];
const WRITE = ["runWrite", "write", "runExclusive", "acquireWrite", "writeLock", "acquire", "use"];
const KIND: Readonly<Record<string, LockKind>> = { Mutex: "mutex", Semaphore: "semaphore", RWLock: "rwlock", Pool: "pool" };

export const asyncdoctorKnowledge: PackageKnowledge = {
  name: "asyncdoctor",
  packages: ["asyncdoctor"],
  methods: new Set([...READ, ...WRITE]),
  callsValues: true,
  recognise({ call, checker, method, typeName }): Recognised | undefined {
    if (method === undefined) {
      if (typeName === "LimitFunction") return { kind: "limiter", mode: "scoped", callback: call.arguments[0] };
      if (typeName === "lockAll") {
        const list = call.arguments[0] && skipOuter(call.arguments[0]);
        if (!list || !ts.isArrayLiteralExpression(list)) return undefined;
        const targets = list.elements.filter((e): e is ts.Expression => !ts.isSpreadElement(e) && !ts.isOmittedExpression(e));
        const cb = call.arguments[1];
        return isCallable(cb, checker) ? { kind: "mutex", mode: "scoped", targets, callback: cb } : { kind: "mutex", mode: "handle", targets };
      }
      return undefined;
    }
    const kind = KIND[typeName];
    if (!kind) return undefined;
    const shared = READ.includes(method);
    if (!shared && !WRITE.includes(method)) return undefined;
    if (shared && kind !== "rwlock") return undefined;
    const rw = kind === "rwlock" ? shared : undefined;
    const cb = call.arguments[0];
    return isCallable(cb, checker) ? { kind, mode: "scoped", callback: cb, shared: rw } : { kind, mode: "handle", shared: rw };
  },
};
