// Dropped promises against a ground truth computed from the generator: thousands of random small
// programs, compiled with the await-graph transform in-process and run, mixing awaited and
// un-awaited calls, promises stored then awaited, `.catch()`, returned, passed to a combinator,
// callbacks (forEach, listeners, timers), rejections and aborts. What the detector reports must
// be exactly what the generator knows was dropped: never a promise that something reacted to.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import fc from "fast-check";
import { dropRecordOf, startAwaitGraph } from "../../src/core/await-graph.js";
import { configure, getConfig } from "../../src/core/config.js";
import type { Diagnosis } from "../../src/core/diagnosis.js";
import { droppedPromiseFindings, resetDroppedPromises, watchDroppedPromises } from "../../src/diagnose/dropped-promises.js";
import { transformAwaits } from "../../src/diagnose/await-transform.js";
import { installGuards } from "../../src/tasks/guards.js";

/** How the program uses the promise of one call. */
type Use =
  | "await" // try { await job() } catch {}
  | "statement" // job();
  | "void" // void job();
  | "catch" // job().catch(() => {})
  | "then" // job().then(() => {}): handled; the derived promise is the chain's
  | "storeAwait" // const p = job(); … await p
  | "push" // stores[i].push(job()), awaited by the driver
  | "all" // await Promise.allSettled([job()])
  | "forEachAsync" // [0].forEach(async () => { await job(); })
  | "forEachExpr" // [0].forEach(() => job())
  | "listener" // em.on(e, () => job()); em.emit(e)
  | "timer" // setTimeout(() => job(), 0)
  | "wrapStore" // wrapStore(i, () => job()): a sync wrapper keeps the promise and returns it; the statement drops its copy
  | "return"; // return job() (the last line of inner())

/**
 * When the call's promise settles: 0 at once (no await), 1 before the function that made the call
 * returns, 2 after it returned (the driver opens its gate), 3 not before the program ends.
 */
type Phase = 0 | 1 | 2 | 3;
type Outcome = "resolve" | "reject" | "abort";
type Scope = "caller" | "inner" | "helper";

interface Op {
  use: Use;
  phase: Phase;
  outcome: Outcome;
  scope: Scope;
  /** The call is to an async function of the program, or to a plain one returning a library's promise. */
  fn: "async" | "library";
}

const AWAITING: readonly Use[] = ["await", "storeAwait", "all", "return"];
const opArb: fc.Arbitrary<Op> = fc
  .record({
    use: fc.constantFrom<Use>(
      "await",
      "statement",
      "void",
      "catch",
      "then",
      "storeAwait",
      "push",
      "all",
      "forEachAsync",
      "forEachExpr",
      "listener",
      "timer",
      "wrapStore",
      "return",
    ),
    phase: fc.constantFrom<Phase>(0, 1, 2, 3),
    outcome: fc.constantFrom<Outcome>("resolve", "resolve", "reject", "abort"),
    scope: fc.constantFrom<Scope>("caller", "inner", "helper"),
    fn: fc.constantFrom<Op["fn"]>("async", "async", "library"),
  })
  .map((op) => {
    // an awaited call must settle before the await, and only an async function awaits
    if (AWAITING.includes(op.use))
      return { ...op, phase: (op.phase % 2) as Phase, scope: op.use === "return" ? "inner" : op.scope === "helper" ? "caller" : op.scope };
    return op;
  });

const programArb = fc.array(opArb, { minLength: 1, maxLength: 8 }).map((ops): Op[] => {
  // one `return` at most, the last op of inner()
  let seen = false;
  return ops.map((op): Op => (op.use === "return" ? (seen ? { ...op, use: "await" } : ((seen = true), op)) : op));
});

interface Program {
  readonly source: string;
  /** The line of each op (1-based, in `source`). */
  readonly lines: number[];
}

function callOf(i: number): string {
  return `job${i}()`;
}

function opLine(op: Op, i: number): string {
  const j = callOf(i);
  const open = op.phase === 1 ? `open(${i}); ` : "";
  switch (op.use) {
    case "await":
      return `${open}try { await ${j}; } catch {}`;
    case "statement":
      return `${j};`;
    case "void":
      return `void ${j};`;
    case "catch":
      return `${j}.catch(() => {});`;
    case "then":
      return `${j}.then(() => {});`;
    case "storeAwait":
      return `const p${i} = ${j};`;
    case "push":
      return `stores[${i}].push(${j});`;
    case "all":
      return `${open}await Promise.allSettled([${j}]);`;
    case "forEachAsync":
      return `[0].forEach(async () => { await ${j}; });`;
    case "forEachExpr":
      return `[0].forEach(() => ${j});`;
    case "listener":
      return `em.on("e${i}", () => ${j}); em.emit("e${i}");`;
    case "timer":
      return `setTimeout(() => ${j}, 0);`;
    case "wrapStore":
      return `wrapStore(${i}, () => ${j});`;
    case "return":
      return `return ${j};`;
  }
}

function build(ops: readonly Op[]): Program {
  const out: string[] = [];
  const lines: number[] = ops.map(() => 0);
  const emit = (text: string, op?: number) => {
    out.push(text);
    if (op !== undefined) lines[op] = out.length;
  };
  emit("const { gate, open, flush, stores, em, lib } = env;");
  emit("function wrapStore(i, f) { const p = f(); stores[i].push(p); return p; }");
  ops.forEach((op, i) => {
    const fail = op.outcome === "reject" ? `throw new Error("op${i}");` : "";
    if (op.fn === "library") emit(`function job${i}() { return lib(${i}); }`);
    else if (op.phase === 0) emit(`async function job${i}() { ${op.outcome === "resolve" ? `return ${i};` : `throw new Error("op${i}");`} }`);
    else emit(`async function job${i}() { await gate(${i}); ${fail} return ${i}; }`);
  });
  const body = (scope: Scope) => {
    ops.forEach((op, i) => {
      if (op.scope === scope && op.use !== "return") emit(`  ${opLine(op, i)}`, i);
    });
  };
  emit("function helper() {");
  body("helper");
  emit("}");
  const ending = (scope: Scope) => {
    // the calls that settle before this function returns (phase 1), then the stored ones awaited
    const early = ops.flatMap((op, i) =>
      op.phase === 1 && (op.scope === scope || (scope === "caller" && op.scope === "helper")) && op.use !== "await" && op.use !== "all" ? [i] : [],
    );
    if (early.length > 0) emit(`  ${early.map((i) => `open(${i});`).join(" ")} await flush();`);
    ops.forEach((op, i) => {
      if (op.scope === scope && op.use === "storeAwait") emit(`  try { await p${i}; } catch {}`);
    });
  };
  emit("async function inner() {");
  body("inner");
  ending("inner");
  ops.forEach((op, i) => {
    if (op.use === "return") emit(`  ${opLine(op, i)}`, i);
  });
  emit("}");
  emit("async function caller() {");
  emit("  helper();");
  emit("  try { await inner(); } catch {}");
  body("caller");
  ending("caller");
  emit("}");
  emit("return caller;");
  return { source: out.join("\n"), lines };
}

/** What the ground truth says about one op. */
interface Truth {
  /** A dropped-promise finding at its line, and its facts. */
  finding: { returned: boolean; atExit: boolean } | undefined;
  /** An unhandled rejection whose promise carries this op's drop line. */
  unhandledWithDrop: boolean;
  /** An unhandled rejection Node may raise for a promise handled late (not a drop): allowed, not checked. */
  lateHandled: boolean;
}

function truth(op: Op): Truth {
  const rejects = op.outcome !== "resolve";
  const asyncScope = op.scope !== "helper";
  // the promise recorded at the site: nothing ever reacts to it (a stored one is awaited by the driver, unless it never settles)
  const dropped = ["statement", "void", "forEachAsync", "forEachExpr", "listener", "timer"].includes(op.use) || (op.use === "wrapStore" && op.phase === 3);
  // only an async function's own promise is checked when its caller returns (a library's may be kept by the library)
  const own = op.fn === "async";
  let returned = false;
  if (op.use === "statement" || op.use === "wrapStore") returned = own && asyncScope && op.phase >= 2;
  // an async callback always suspends at its await: pending when forEach returns
  if (op.use === "forEachAsync") returned = true;
  if (op.use === "forEachExpr") returned = own && op.phase >= 1;
  const atExit = dropped && op.phase === 3;
  // a rejection before the end is the unhandled-rejection report's, not reported again
  const reportedBefore = rejects && op.phase < 3;
  const finding = dropped && (returned || atExit) && !reportedBefore ? { returned, atExit } : undefined;
  const unhandledWithDrop = rejects && ["statement", "void", "forEachAsync", "forEachExpr", "listener", "timer", "then"].includes(op.use);
  // rejected before anything reacted to it, then awaited (Node reports it, then sees it handled)
  const lateHandled = rejects && ["storeAwait", "push", "wrapStore"].includes(op.use);
  return { finding, unhandledWithDrop, lateHandled };
}

const macrotask = () => new Promise<void>((r) => setImmediate(r));
const timers = () => new Promise<void>((r) => setTimeout(r, 0));

let runs = 0;

async function check(ops: readonly Op[]): Promise<void> {
  const { source, lines } = build(ops);
  const file = `/property/program-${runs++}.js`;
  const compiled = transformAwaits({ source, file, format: "commonjs" });
  assert.ok(compiled, "the transform compiles the program");
  const gates = ops.map((op, i) => {
    const c = new AbortController();
    let resolve!: () => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      c.signal.addEventListener("abort", () => rej(c.signal.reason), { once: true });
    });
    // an aborted gate nobody awaits yet is the harness's, not the program's: never unhandled itself
    promise.catch(() => {});
    return { promise, open: () => (op.outcome === "abort" ? c.abort(new Error(`op${i}`)) : resolve()) };
  });
  const stores: Promise<unknown>[][] = ops.map(() => []);
  const env = {
    gate: (i: number) => gates[i]!.promise,
    open: (i: number) => gates[i]!.open(),
    flush: macrotask,
    stores,
    em: new EventEmitter(),
    // a library's promise (not an async function of the program): settled at once, or when its gate opens
    lib: (i: number): Promise<number> => {
      const fail = ops[i]!.outcome === "reject";
      if (ops[i]!.phase === 0) return ops[i]!.outcome === "resolve" ? Promise.resolve(i) : Promise.reject(new Error(`op${i}`));
      return gates[i]!.promise.then(() => {
        if (fail) throw new Error(`op${i}`);
        return i;
      });
    },
  };
  // the program runs in-process as the transform compiled it
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const caller = (new Function("env", compiled) as (e: typeof env) => () => Promise<void>)(env);
  const unhandled: { op: number; line: number | undefined }[] = [];
  const onUnhandled = (reason: unknown, p: Promise<unknown>) => {
    const op = Number(/^op(\d+)$/.exec((reason as Error)?.message ?? "")?.[1]);
    const rec = dropRecordOf(p);
    unhandled.push({ op, line: rec?.meta.file === file ? rec.site.line : undefined });
  };
  process.on("unhandledRejection", onUnhandled);
  let atEnd: Diagnosis[];
  try {
    await caller();
    // after the caller returned: the later calls settle, and the driver awaits what was stored
    ops.forEach((op, i) => op.phase === 2 && stores[i]!.length === 0 && env.open(i));
    ops.forEach((op, i) => {
      if (op.phase === 2 && stores[i]!.length > 0) {
        void Promise.allSettled(stores[i]!);
        env.open(i);
      }
    });
    await timers();
    await macrotask();
    await Promise.allSettled(ops.flatMap((op, i) => (op.phase === 3 ? [] : stores[i]!)));
    await macrotask();
    // the program ends here: what is reported now
    atEnd = droppedPromiseFindings("exit").filter((d) => d.site?.file === file);
    // clean up: the rest settles, stored ones handled first
    ops.forEach((op, i) => {
      if (op.phase === 3) {
        void Promise.allSettled(stores[i]!);
        env.open(i);
      }
    });
    await timers();
    await macrotask();
    await macrotask();
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  const expected = ops.map(truth);
  const byLine = new Map(lines.map((l, i) => [l, i]));
  const explain = () => `program:\n${source}\nfound: ${atEnd.map((d) => `${d.site?.line}: ${d.summary}`).join("\n")}`;
  for (const d of atEnd) {
    const i = byLine.get(d.site?.line ?? -1);
    assert.ok(i !== undefined, `a finding at a line that holds no call: ${explain()}`);
    const t = expected[i]!.finding;
    assert.ok(t, `a false positive at line ${d.site?.line} (${ops[i]!.use}, phase ${ops[i]!.phase}, ${ops[i]!.outcome}, in ${ops[i]!.scope}): ${explain()}`);
    assert.equal(d.data?.pendingWhenReturned, t.returned, `pending when returned, line ${d.site?.line}: ${explain()}`);
    assert.equal((d.data?.pendingAtExit as number) > 0, t.atExit, `pending at the end, line ${d.site?.line}: ${explain()}`);
  }
  expected.forEach((t, i) => {
    if (t.finding)
      assert.ok(
        atEnd.some((d) => d.site?.line === lines[i]),
        `missed the drop at line ${lines[i]} (${ops[i]!.use}, phase ${ops[i]!.phase}): ${explain()}`,
      );
  });
  for (const u of unhandled) {
    const t = expected[u.op];
    assert.ok(t && (t.unhandledWithDrop || t.lateHandled), `an unhandled rejection of op${u.op}, which was handled: ${explain()}`);
    if (t.unhandledWithDrop) assert.equal(u.line, lines[u.op], `the unhandled rejection of op${u.op} names its drop line: ${explain()}`);
  }
  expected.forEach((t, i) => {
    if (t.unhandledWithDrop)
      assert.ok(
        unhandled.some((u) => u.op === i && u.line === lines[i]),
        `op${i} rejected unhandled, with its drop line: ${explain()}`,
      );
  });
}

describe("dropped promises: property against the generator's ground truth", () => {
  it("reports exactly the dropped promises of random programs, and names the drop line of each unhandled rejection", async () => {
    startAwaitGraph();
    const stop = watchDroppedPromises();
    // this run's rejections are the subject: the test runner's own listener is set aside meanwhile
    const runner = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    // a listener of our own besides the guards': they then leave the decision to it, and do not rethrow
    const keep = () => {};
    process.on("unhandledRejection", keep);
    const guards = installGuards();
    const prev = getConfig().onDiagnosis;
    const reported: Diagnosis[] = [];
    configure({ onDiagnosis: (d) => reported.push(d) });
    try {
      await fc.assert(
        fc.asyncProperty(programArb, async (ops) => {
          resetDroppedPromises();
          await check(ops);
        }),
        { numRuns: 2000 },
      );
      // the unhandled-rejection report itself names the drop line
      const named = reported.filter((d) => d.rule === "unhandled-rejection" && d.subjects.some((s) => s.role === "dropped here"));
      assert.ok(named.length > 0);
      assert.ok(named.every((d) => /; it was dropped at .*program-\d+\.js:\d+:\d+ by .+$/.test(d.summary)));
    } finally {
      configure({ onDiagnosis: prev });
      guards();
      process.off("unhandledRejection", keep);
      for (const l of runner) process.on("unhandledRejection", l);
      stop();
    }
  });
});
