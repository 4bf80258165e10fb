/**
 * pool-nested-acquire: code that holds a connection (client, transaction) from a pool asks the
 * same pool for another one, directly or through calls: `pool.connect()`/`acquire()`/`use()`
 * again, or a query on the pool (`pool.query`, knex's `db(…)` without `.transacting(trx)`)
 * instead of on the held client. When every connection is held by such callers, each waits
 * for a connection that only another waiter could give back (the seed's 2.3) — and the
 * query runs outside the held client's transaction.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import type { AcquireEvent, CallLink, Held } from "../analysis/held-walk.js";
import { chainFrom, walkHeld } from "../analysis/held-walk.js";
import { capacityOf, typeNamesOption } from "../analysis/lock-apis.js";
import { lockSubject, stepsFrom, viaText } from "../analysis/lock-describe.js";
import { shortSite, siteOf } from "../analysis/node-site.js";
import { bypassedTransaction } from "./transaction-client-misuse.js";

function clientName(h: Held): string {
  return h.client ?? (h.use.library === "knex" ? "trx" : "client");
}

/**
 * The call where the held client stops being passed down: the first call of the chain that is
 * not given it (`getOrCreateSession(trx)` passes `trx` on, `insertAndRetrieve(…)` inside it does
 * not). That call is where the fix goes. Undefined when the chain passes it all the way.
 */
function droppedAt(event: AcquireEvent, held: Held): CallLink | undefined {
  const links = chainFrom(event, held);
  if (held.client === undefined) return links[0];
  let names = new Set([held.client]);
  for (const link of links) {
    const params = link.callee.parameters;
    const next = new Set<string>();
    link.call.arguments.forEach((a, i) => {
      const p = params[i];
      if (ts.isIdentifier(a) && names.has(a.text) && p && ts.isIdentifier(p.name)) next.add(p.name.text);
    });
    if (next.size === 0) return link;
    names = next;
  }
  return undefined;
}

function summaryOf(held: Held, event: AcquireEvent): string {
  const pool = event.ref.name;
  const client = clientName(held);
  const via = viaText(held, event);
  const at = shortSite(held.use.call);
  const max = capacityOf("pool", event.ref.init);
  const tail = `${max === 1 ? "with its single connection held, this waits forever" : "when every connection is held by callers doing this, they all wait forever"}`;
  if (event.use.mode === "query") {
    const what = event.use.library === "knex" ? `a query on \`${pool}\` (not on the transaction \`${client}\`)` : `\`${pool}.${event.use.method}\``;
    return `${what} takes a second connection from pool \`${pool}\` while \`${client}\` from it is held (taken at ${at})${via}: ${tail}, and it runs outside \`${client}\`'s transaction`;
  }
  return `a second connection is taken from pool \`${pool}\` (${event.use.method}) while \`${client}\` from it is held (taken at ${at})${via}: ${tail}`;
}

function fixOf(held: Held, event: AcquireEvent): string {
  const pool = event.ref.name;
  const client = clientName(held);
  const first = droppedAt(event, held);
  const passDown = first ? `pass the open \`${client}\` down to ${first.name}() instead of \`${pool}\`` : `use the open \`${client}\``;
  if (event.use.library === "knex")
    return `Run the query in the transaction: ${passDown} and query through it (\`${client}("table")…\`, or add \`.transacting(${client})\`).`;
  if (event.use.mode === "query") return `Run the statement on the held connection: ${passDown} and call \`${client}.${event.use.method}(…)\`.`;
  return `Don't take a second connection while holding one: ${passDown}.`;
}

export const poolNestedAcquire: Rule = {
  meta: {
    id: "pool-nested-acquire",
    description: "a connection taken from a pool, or the pool queried, while a connection from that same pool is held",
    certainty: "potential",
    defaultSeverity: "error",
    scope: "program",
  },
  checkProgram(ctx) {
    const done = new Set<string>();
    const custom = { locks: [], pools: typeNamesOption(ctx.options, "pools", "pool-nested-acquire") };
    walkHeld(
      ctx.sourceFiles,
      ctx.checker,
      (event) => {
        if (event.use.kind !== "pool" || !event.ref.known) return;
        const held = event.held.find((h) => h.use.kind === "pool" && h.ref.key === event.ref.key);
        if (!held) return;
        // a query past a held transaction is transaction-client-misuse's finding
        if (bypassedTransaction(event)) return;
        // the fix goes where the held client stops being passed down (or at the acquire, when it never does)
        const anchor = droppedAt(event, held)?.call ?? event.use.call;
        const key = `${anchor.getSourceFile().fileName}:${anchor.getStart()}:${event.ref.classKey}`;
        if (done.has(key)) return;
        done.add(key);
        ctx.report({
          node: anchor,
          summary: summaryOf(held, event),
          fix: fixOf(held, event),
          subjects: [
            lockSubject(held, `\`${clientName(held)}\` taken here`),
            { kind: "lock", name: event.ref.name, role: event.use.mode === "query" ? "queried here" : "acquired again here", site: siteOf(event.use.call) },
          ],
          steps: stepsFrom(held, event, `pool \`${event.ref.name}\` asked for another connection (${event.use.method})`),
          data: { pool: event.ref.name, client: clientName(held), library: event.use.library },
        });
      },
      custom,
    );
  },
};
