/**
 * nested-acquire: a lock, semaphore, limiter or queue acquired again by code that already holds
 * it and waits for the second acquire, directly or through calls within the program (the
 * seed's 2.1: a semaphore acquired again by its holder hangs forever).
 */
import type ts from "typescript";
import type { Rule } from "../rule.js";
import { sameKey } from "../analysis/lock-identity.js";
import type { AcquireEvent, Held } from "../analysis/held-walk.js";
import { anchorOf, walkHeld } from "../analysis/held-walk.js";
import { capacityOf, typeNamesOption } from "../analysis/lock-apis.js";
import { describeLock, lockSubject, stepsFrom, viaText } from "../analysis/lock-describe.js";
import { shortSite, siteOf } from "../analysis/node-site.js";

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
  },
};
