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
import { capacityOf, typeNamesOption } from "../analysis/lock-apis.js";
import { describeLock, lockSubject, stepsFrom, viaText } from "../analysis/lock-describe.js";
import { shortSite, siteOf } from "../analysis/node-site.js";
import { classifyCall } from "../analysis/classify-call.js";
import { skipOuter } from "../analysis/own-flow.js";
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
    for (const sf of ctx.sourceFiles) {
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
