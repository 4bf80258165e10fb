/**
 * nested-acquire: a lock, semaphore, limiter or queue acquired again by code that already holds
 * it and waits for the second acquire, directly or through calls within the program (the
 * seed's 2.1: a semaphore acquired again by its holder hangs forever).
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { sameKey } from "../analysis/lock-identity.js";
import type { AcquireEvent, Held } from "../analysis/held-walk.js";
import { anchorOf, walkHeld } from "../analysis/held-walk.js";
import { capacityOf, handleRegion, typeNamesOption } from "../analysis/lock-apis.js";
import type { LockUse } from "../analysis/lock-apis.js";
import { calleeOf } from "../analysis/call-graph.js";
import type { FunctionNode } from "../analysis/own-flow.js";
import { forEachOwnNode, functionName, isFunctionNode } from "../analysis/own-flow.js";
import { describeLock, lockSubject, stepsFrom, viaText } from "../analysis/lock-describe.js";
import { shortSite, siteOf } from "../analysis/node-site.js";
import { classifyCall } from "../analysis/classify-call.js";
import { skipOuter } from "../analysis/own-flow.js";

/** The lock a use names, by the receiver's binding (a module-level lock, a field): undefined when it cannot be told. */
function lockSymbol(use: LockUse, checker: ts.TypeChecker): ts.Symbol | undefined {
  const t = use.targets[0] && skipOuter(use.targets[0]);
  if (!t || use.key !== undefined) return undefined;
  if (!ts.isIdentifier(t) && !ts.isPropertyAccessExpression(t)) return undefined;
  let sym = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(t) ? t.name : t);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  return sym;
}

/** A handle acquire of an async generator held across one of its `yield`s: the caller's loop body runs with it held. */
function heldAcrossYield(gen: FunctionNode, checker: ts.TypeChecker): LockUse | undefined {
  let found: LockUse | undefined;
  forEachOwnNode(gen, (n) => {
    if (found || !ts.isCallExpression(n)) return;
    const use = classifyCall(n, checker);
    if (!use || use.mode !== "handle" || use.kind === "pool") return;
    const region = handleRegion(use, gen.body!);
    let yields = false;
    forEachOwnNode(gen, (y) => {
      if (ts.isYieldExpression(y) && y.pos >= use.call.end && y.end <= region.end) yields = true;
    });
    if (yields) found = use;
  });
  return found;
}

/** The function a call hands to a method that stores it in a field list (`onAuthStateChange(cb)` → `this.subscribers.push(cb)`). */
interface Registration {
  readonly method: ts.MethodDeclaration;
  readonly index: number;
}

/** `this.F.push(p)` / `add(p)` / `unshift(p)` of a method's parameter, by field name, in one class. */
function registrationsOf(cls: ts.ClassLikeDeclaration): Map<string, Registration[]> {
  const out = new Map<string, Registration[]>();
  for (const m of cls.members) {
    if (!ts.isMethodDeclaration(m) || !m.body) continue;
    forEachOwnNode(m, (n) => {
      if (!ts.isCallExpression(n) || n.arguments.length !== 1) return;
      const callee = skipOuter(n.expression);
      if (!ts.isPropertyAccessExpression(callee) || !["push", "add", "unshift"].includes(callee.name.text)) return;
      const list = skipOuter(callee.expression);
      if (!ts.isPropertyAccessExpression(list) || list.expression.kind !== ts.SyntaxKind.ThisKeyword) return;
      const arg = skipOuter(n.arguments[0]!);
      const index = ts.isIdentifier(arg) ? m.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === arg.text) : -1;
      if (index < 0) return;
      const regs = out.get(list.name.text) ?? [];
      regs.push({ method: m, index });
      out.set(list.name.text, regs);
    });
  }
  return out;
}

/**
 * The scoped holds in class `cls` whose callback awaits the callbacks stored in field `F`:
 * `await Promise.all(this.F.map((cb) => cb(x)))`, `for (const cb of this.F) await cb(x)`.
 */
function holdsAwaitingListeners(cls: ts.ClassLikeDeclaration, field: string, checker: ts.TypeChecker): LockUse[] {
  const out: LockUse[] = [];
  const visit = (n: ts.Node): void => {
    let invoked: ts.Node | undefined;
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(skipOuter(n.expression))) {
      const callee = skipOuter(n.expression) as ts.PropertyAccessExpression;
      const list = skipOuter(callee.expression);
      const arg = n.arguments[0] && skipOuter(n.arguments[0]);
      const fn = arg && isFunctionNode(arg) ? arg : undefined;
      const p = fn?.parameters[0];
      if (
        ["map", "forEach"].includes(callee.name.text) &&
        ts.isPropertyAccessExpression(list) &&
        list.expression.kind === ts.SyntaxKind.ThisKeyword &&
        list.name.text === field &&
        p &&
        ts.isIdentifier(p.name) &&
        fn?.body?.getText().includes(`${p.name.text}(`) === true
      )
        invoked = n;
    }
    if (ts.isForOfStatement(n)) {
      const list = skipOuter(n.expression);
      const v = n.initializer;
      const name = ts.isVariableDeclarationList(v) && v.declarations[0] && ts.isIdentifier(v.declarations[0].name) ? v.declarations[0].name.text : undefined;
      if (
        ts.isPropertyAccessExpression(list) &&
        list.expression.kind === ts.SyntaxKind.ThisKeyword &&
        list.name.text === field &&
        name &&
        n.statement.getText().includes(`await ${name}(`)
      )
        invoked = n;
    }
    if (invoked) {
      // awaited: under an `await` (the for-of's own await, or `await Promise.all(…)`) in the held callback
      const awaited =
        ts.isForOfStatement(invoked) ||
        ts.findAncestor(invoked, (a) => ts.isAwaitExpression(a) || ts.isFunctionLike(a))?.kind === ts.SyntaxKind.AwaitExpression;
      const held = ts.findAncestor(invoked, ts.isFunctionLike);
      const holder = held && ts.isCallExpression(held.parent) ? held.parent : undefined;
      const use = holder && awaited ? classifyCall(holder, checker) : undefined;
      if (use && use.mode === "scoped" && use.callback && skipOuter(use.callback) === held) out.push(use);
    }
    ts.forEachChild(n, visit);
  };
  visit(cls);
  return out;
}

/**
 * A listener registered on an object whose lock holder awaits its listeners, and that waits for
 * the same lock: `refreshSession()` runs under `this.acquireLock(…)` and awaits every
 * `onAuthStateChange` subscriber; a subscriber that calls `auth.getSession()` (which takes that
 * lock) waits for the holder, which waits for it (auth-js#762).
 */
function checkListenersUnderHold(
  files: readonly ts.SourceFile[],
  checker: ts.TypeChecker,
  report: (at: ts.Node, held: LockUse, taken: LockUse, registered: ts.CallExpression, via: string[]) => void,
): void {
  const regs: { reg: Registration; held: LockUse }[] = [];
  for (const sf of files) {
    if (!/\.(push|add|unshift)\(/.test(sf.text)) continue;
    const visit = (n: ts.Node): void => {
      if (ts.isClassLike(n)) {
        for (const [field, list] of registrationsOf(n)) {
          const holds = holdsAwaitingListeners(n, field, checker);
          for (const held of holds) for (const reg of list) regs.push({ reg, held });
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  if (regs.length === 0) return;
  for (const sf of files) {
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(skipOuter(n.expression))) {
        const name = (skipOuter(n.expression) as ts.PropertyAccessExpression).name;
        // by declaration: a method read through an instance can be a transient symbol of its own
        const decls = regs.some((r) => r.reg.method.name.getText() === name.text) ? (checker.getSymbolAtLocation(name)?.declarations ?? []) : [];
        for (const { reg, held } of regs) {
          if (!decls.includes(reg.method)) continue;
          const listener = n.arguments[reg.index] && skipOuter(n.arguments[reg.index]!);
          if (!listener || !isFunctionNode(listener)) continue;
          const lock = lockSymbol(held, checker);
          const hit = lock && awaitedAcquires(listener, checker).find((a) => lockSymbol(a.use, checker) === lock);
          if (hit) report(hit.at, held, hit.use, n, hit.via);
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
}

/**
 * The acquires a loop body waits for, directly or through the program's functions it awaits
 * (three calls deep), each with the call of the body that leads to it.
 */
function awaitedAcquires(body: ts.Node, checker: ts.TypeChecker): { use: LockUse; at: ts.Node; via: string[] }[] {
  const out: { use: LockUse; at: ts.Node; via: string[] }[] = [];
  const seen = new Set<ts.Node>();
  const go = (root: ts.Node, at: ts.Node | undefined, via: string[]): void => {
    forEachOwnNode(root, (n) => {
      // what a called function returns is what its caller awaits (`return this.acquireLock(…)`)
      const waited = ts.isAwaitExpression(n) ? n.expression : at !== undefined && ts.isReturnStatement(n) ? n.expression : undefined;
      if (!waited) return;
      const call = skipOuter(waited);
      if (!ts.isCallExpression(call)) return;
      const use = classifyCall(call, checker);
      if (use) {
        out.push({ use, at: at ?? call, via });
        return;
      }
      const fn = via.length < 3 ? calleeOf(call, checker) : undefined;
      if (fn?.body && !seen.has(fn)) {
        seen.add(fn);
        go(fn, at ?? call, [...via, functionName(fn)]);
      }
    });
  };
  go(body, undefined, []);
  return out;
}

/**
 * `for await (const x of gen())` where the async generator `gen` holds a lock across a `yield`
 * (mortice's `readLock()` … `yield` … `release()`): the loop body runs while the generator holds
 * it, so a body that waits for the same lock (a write under the read) waits for the generator,
 * which waits for the body to ask for the next item (helia#99).
 */
function checkGeneratorHolds(
  sf: ts.SourceFile,
  checker: ts.TypeChecker,
  report: (at: ts.Node, held: LockUse, taken: LockUse, gen: FunctionNode, via: string[]) => void,
): void {
  if (!sf.text.includes("for await")) return;
  const visit = (n: ts.Node): void => {
    if (ts.isForOfStatement(n) && n.awaitModifier) {
      const call = skipOuter(n.expression);
      const gen = ts.isCallExpression(call) ? calleeOf(call, checker) : undefined;
      const held = gen && gen.asteriskToken && gen.body ? heldAcrossYield(gen, checker) : undefined;
      const lock = held && lockSymbol(held, checker);
      if (gen && held && lock) {
        for (const { use, at, via } of awaitedAcquires(n.statement, checker)) {
          if (lockSymbol(use, checker) !== lock) continue;
          if (held.kind === "rwlock" && held.shared && use.shared) continue; // readers share
          report(at, held, use, gen, via);
          break;
        }
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}
import { knowledgeOf } from "../knowledge/index.js";
import { packageOfTypeNode } from "../knowledge/package-knowledge.js";

function conflicts(held: Held, event: AcquireEvent, checker: ts.TypeChecker): boolean {
  if (held.ref.key !== event.ref.key || !event.ref.known) return false;
  // a keyed lock: other keys are other locks
  if (!sameKey(held.use.key, event.use.key, checker)) return false;
  if (held.use.kind === "pool" || event.use.kind === "pool") return false; // pool-nested-acquire's
  // readers share a read-write lock
  if (held.use.kind === "rwlock" && held.use.shared && event.use.shared) return false;
  // a queue or limiter that admits everyone at once never makes anyone wait
  return capacityOf(event.use.kind, event.ref.init) !== Infinity;
}

function summaryOf(held: Held, event: AcquireEvent): string {
  const what = describeLock(event.use.kind, event.ref.name);
  const via = viaText(held, event);
  const at = shortSite(held.use.call);
  const cap = capacityOf(event.use.kind, event.ref.init);
  switch (event.use.kind) {
    case "limiter":
    case "queue":
      return `${what} runs a function that waits for \`${event.ref.name}\` again${via}: when all ${cap ?? "n"} slots are taken by such calls, none can finish (outer call at ${at})`;
    case "semaphore":
      if (cap !== 1)
        return `${what} is acquired again while its holder still holds it (taken at ${at})${via}: when every permit is held by such holders, all wait forever`;
      break;
    default:
      break;
  }
  return `${what} is acquired again while its holder still holds it (taken at ${at})${via}: it waits for itself forever`;
}

function fixOf(held: Held, event: AcquireEvent): string {
  const name = event.ref.name;
  const links = event.chain.slice(held.depth);
  if (event.use.kind === "limiter" || event.use.kind === "queue")
    return `Don't route the inner work through \`${name}\` again: call it directly (it already runs under \`${name}\`) or give it a separate ${event.use.kind}.`;
  if (links.length > 0)
    return `Don't take \`${name}\` again inside the region that holds it: call a variant of ${links[links.length - 1]!.name}() that expects \`${name}\` held, or release \`${name}\` before the call.`;
  return `Don't take \`${name}\` again while holding it: do the inner work directly inside the outer region, or release \`${name}\` first.`;
}

/** One operation of an awaited `Promise.all([…])` on a lock: taking it, or waiting for it to be free. */
interface Together {
  readonly call: ts.CallExpression;
  readonly lock: string;
  readonly takes: boolean;
}

/** The lock a call takes (a mutex's handle acquire) or waits to be free (`waitForUnlock()`), by the receiver's binding. */
function togetherOp(call: ts.CallExpression, checker: ts.TypeChecker): Together | undefined {
  const callee = skipOuter(call.expression);
  if (!ts.isPropertyAccessExpression(callee)) return undefined;
  const recv = skipOuter(callee.expression);
  const sym = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(recv) ? recv.name : recv);
  if (!sym) return undefined;
  const lock = `${recv.getText()}#${sym.getName()}`;
  const type = checker.getNonNullableType(checker.getTypeAtLocation(recv));
  const pkg = packageOfTypeNode(type);
  const typeName = (type.aliasSymbol ?? type.getSymbol())?.getName();
  const waits = pkg && typeName ? knowledgeOf(pkg)?.unlockWaits?.[typeName] : undefined;
  if (waits?.includes(callee.name.text)) return { call, lock, takes: false };
  const use = classifyCall(call, checker);
  if (use && use.mode === "handle" && use.kind === "mutex" && use.key === undefined) return { call, lock, takes: true };
  return undefined;
}

/**
 * `await Promise.all([m.acquire(), m.waitForUnlock()])` (or two acquires of one mutex): once one
 * acquire is granted, the code holds `m` while still waiting, in the same Promise.all, for `m`
 * to be free or granted again; the release comes only after the Promise.all (async-mutex#88).
 */
function checkTogether(sf: ts.SourceFile, checker: ts.TypeChecker, report: (call: ts.CallExpression, held: Together, other: Together) => void): void {
  if (!sf.text.includes("Promise.")) return;
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const callee = skipOuter(n.expression);
      const arr = n.arguments[0] && skipOuter(n.arguments[0]);
      if (
        ts.isPropertyAccessExpression(callee) &&
        (callee.name.text === "all" || callee.name.text === "allSettled") &&
        skipOuter(callee.expression).getText() === "Promise" &&
        arr &&
        ts.isArrayLiteralExpression(arr) &&
        arr.elements.length >= 2 &&
        isAwaitedHere(n)
      ) {
        const ops = arr.elements
          .map((e) => skipOuter(e))
          .flatMap((e) => (ts.isCallExpression(e) ? [togetherOp(e, checker)].filter((x) => x !== undefined) : []));
        const held = ops.find((o) => o.takes);
        const other = held && ops.find((o) => o !== held && o.lock === held.lock);
        if (held && other) report(n, held, other);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}

function isAwaitedHere(call: ts.Node): boolean {
  let cur = call;
  while (ts.isParenthesizedExpression(cur.parent)) cur = cur.parent;
  return ts.isAwaitExpression(cur.parent) || ts.isReturnStatement(cur.parent);
}

export const nestedAcquire: Rule = {
  meta: {
    id: "nested-acquire",
    description: "a lock, semaphore, limiter or queue acquired again, and waited for, by code that already holds it",
    certainty: "potential",
    defaultSeverity: "error",
    scope: "program",
  },
  checkProgram(ctx) {
    const done = new Set<string>();
    const custom = { locks: typeNamesOption(ctx.options, "locks", "nested-acquire"), pools: [] };
    walkHeld(
      ctx.sourceFiles,
      ctx.checker,
      (event) => {
        const held = event.held.find((h) => conflicts(h, event, ctx.checker));
        if (!held) return;
        const anchor = anchorOf(event, held);
        const key = `${anchor.getSourceFile().fileName}:${anchor.getStart()}:${event.ref.classKey}`;
        if (done.has(key)) return;
        done.add(key);
        const single = capacityOf(event.use.kind, event.ref.init) === 1;
        ctx.report({
          node: anchor,
          summary: summaryOf(held, event),
          fix: fixOf(held, event),
          subjects: [lockSubject(held, "held (taken here)"), { kind: "lock", name: event.ref.name, role: "taken again here", site: siteOf(event.use.call) }],
          steps: stepsFrom(held, event, `\`${event.ref.name}\` acquired again (${event.use.method}): waits for a release that comes only after it`),
          data: { lock: event.ref.name, kind: event.use.kind, library: event.use.library, singleHolder: single },
        });
      },
      custom,
    );
    checkListenersUnderHold(ctx.sourceFiles, ctx.checker, (at, held, taken, registered, via) => {
      const name = held.targets[0]!.getText();
      const what = describeLock(taken.kind, name);
      const reg = skipOuter(registered.expression).getText();
      const path = via.length > 0 ? ` (via ${via.map((v) => `${v}()`).join(" → ")})` : "";
      ctx.report({
        node: at,
        summary: `${what} is taken here${path} in a listener registered with \`${reg}(…)\`, and the holder of \`${name}\` at ${shortSite(held.call)} awaits those listeners while holding it: the listener waits for the holder, which waits for the listener, forever`,
        fix: `Don't await listeners while holding \`${name}\`: notify them after the release (or without awaiting them); or give listeners a variant that does not take \`${name}\`.`,
        subjects: [
          { kind: "lock", name, role: "held while awaiting its listeners", site: siteOf(held.call) },
          { kind: "code", name: reg, role: "listener registered here", site: siteOf(registered) },
          { kind: "lock", name, role: "taken again here", site: siteOf(taken.call) },
        ],
        data: { lock: name, kind: taken.kind, library: taken.library },
      });
    });
    for (const sf of ctx.sourceFiles) {
      checkGeneratorHolds(sf, ctx.checker, (at, held, taken, gen, via) => {
        const name = held.targets[0]!.getText();
        const what = describeLock(taken.kind, name);
        const path = via.length > 0 ? ` (via ${via.map((v) => `${v}()`).join(" → ")})` : "";
        ctx.report({
          node: at,
          summary: `${what} is taken${taken.shared === false ? " for writing" : ""} here${path} inside \`for await\` over ${functionName(gen)}(), which holds it${held.shared ? " for reading" : ""} (taken at ${shortSite(held.call)}) while it yields: the generator releases it only when the loop asks for the end, so this waits for itself forever`,
          fix: `Don't take \`${name}\` inside the loop: collect the items first (\`const items = []; for await (const x of ${functionName(gen)}(…)) items.push(x);\`), then do the work; or release \`${name}\` in ${functionName(gen)}() before each \`yield\`.`,
          subjects: [
            { kind: "lock", name, role: `held across ${functionName(gen)}()'s yield`, site: siteOf(held.call) },
            { kind: "lock", name, role: "taken again here", site: siteOf(taken.call) },
          ],
          data: { lock: name, kind: taken.kind, library: taken.library },
        });
      });
      checkTogether(sf, ctx.checker, (call, held, other) => {
        const name = held.lock.split("#")[0]!;
        const what = other.takes ? `\`${other.call.getText()}\` takes it again` : `\`${other.call.getText()}\` waits for it to be free`;
        ctx.report({
          node: call,
          summary: `\`${call.expression.getText()}\` waits for \`${held.call.getText()}\` and, together, for \`${other.call.getText()}\`: once the acquire is granted this code holds \`${name}\`, and ${what}, which only its own release after the \`${call.expression.getText()}\` can allow: it waits for itself forever`,
          fix: other.takes
            ? `Take \`${name}\` once: acquire it, do the work, release it, then acquire it again if needed.`
            : `Wait in order: \`await ${other.call.getText()}\` before the acquire (or drop it: the acquire already waits for \`${name}\` to be free).`,
          subjects: [
            { kind: "lock", name, role: "taken here", site: siteOf(held.call) },
            { kind: "lock", name, role: other.takes ? "taken again here" : "waited to be free here", site: siteOf(other.call) },
          ],
          data: { lock: name, kind: "mutex" },
        });
      });
    }
  },
};
