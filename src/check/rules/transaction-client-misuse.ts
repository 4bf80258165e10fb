/**
 * transaction-client-misuse: inside a transaction's callback (knex `db.transaction(trx => …)`,
 * Prisma `$transaction(async (tx) => …)`, `sequelize.transaction(t => …)`, typeorm
 * `dataSource.transaction(em => …)`, kysely, Drizzle, MikroORM, an ioredis `multi()`), a query
 * sent through the outer client instead of the transaction's, directly or through calls. It
 * runs outside the transaction (not rolled back with it, blind to its uncommitted writes), and
 * it needs a second connection from the pool the transaction holds one of: when every
 * connection is held by such transactions, they all wait forever.
 */
import type { Rule } from "../rule.js";
import type { AcquireEvent, Held } from "../analysis/held-walk.js";
import { anchorOf, chainFrom, walkHeld } from "../analysis/held-walk.js";
import { typeNamesOption } from "../analysis/lock-apis.js";
import { lockSubject, stepsFrom, viaText } from "../analysis/lock-describe.js";
import { shortSite, siteOf } from "../analysis/node-site.js";

/** The transaction held around `event` that its query bypasses, if any. */
export function bypassedTransaction(event: AcquireEvent): Held | undefined {
  if (event.use.mode !== "query") return undefined;
  return event.held.find(
    (h) =>
      h.use.transaction === true &&
      h.use.kind === "pool" &&
      ((event.ref.known && h.ref.key === event.ref.key) || (event.use.anyInstance === true && h.use.library === event.use.library)),
  );
}

function clientOf(h: Held): string {
  return h.client ?? "the transaction";
}

function queryText(event: AcquireEvent): string {
  const text = event.use.call.getText().replace(/\s+/g, " ");
  return text.length > 50 ? `${text.slice(0, 47)}…` : text;
}

function fixOf(held: Held, event: AcquireEvent): string {
  const trx = clientOf(held);
  const first = chainFrom(event, held)[0];
  const pass = first ? `pass \`${trx}\` down to ${first.name}() and ` : "";
  switch (event.use.library) {
    case "knex":
      return `Run it in the transaction: ${pass}query through \`${trx}\` (\`${trx}("table")…\`), or chain \`.transacting(${trx})\`.`;
    case "sequelize":
      return `Pass the transaction: ${pass}give the call \`{ transaction: ${trx} }\` in its options (or enable CLS with \`Sequelize.useCLS\`).`;
    case "typeorm":
      return `Run it in the transaction: ${pass}use the entity manager the callback is given (\`${trx}.getRepository(Entity)\`, \`${trx}.save(…)\`), not the data source or an injected repository.`;
    case "ioredis":
      return `Queue the command on the transaction (\`${trx}.${event.use.method}(…)\`) so \`exec()\` runs it atomically, or send it before \`multi()\`.`;
    default:
      return `Run it in the transaction: ${pass}send it through \`${trx}\` instead of \`${event.ref.name}\`.`;
  }
}

export const transactionClientMisuse: Rule = {
  meta: {
    id: "transaction-client-misuse",
    description: "a query sent through the outer client inside a transaction's callback: it runs outside the transaction and needs a second connection",
    certainty: "potential",
    defaultSeverity: "error",
    scope: "program",
  },
  checkProgram(ctx) {
    const done = new Set<string>();
    const custom = { locks: [], pools: typeNamesOption(ctx.options, "pools", "transaction-client-misuse") };
    walkHeld(
      ctx.sourceFiles,
      ctx.checker,
      (event) => {
        const held = bypassedTransaction(event);
        if (!held) return;
        const anchor = anchorOf(event, held);
        const key = `${anchor.getSourceFile().fileName}:${anchor.getStart()}`;
        if (done.has(key)) return;
        done.add(key);
        const trx = clientOf(held);
        const outer = event.use.anyInstance ? `the default connection of ${event.use.library} (no \`transaction\` option)` : `\`${event.ref.name}\``;
        ctx.report({
          node: anchor,
          summary: `\`${queryText(event)}\` goes through ${outer}, not \`${trx}\`, inside the transaction opened at ${shortSite(held.use.call)}${viaText(held, event)}: it runs outside the transaction (not rolled back with it, blind to its uncommitted writes) and takes a second connection, so when the pool is full of such transactions they all wait forever`,
          fix: fixOf(held, event),
          subjects: [
            lockSubject(held, `transaction \`${trx}\` opened here`),
            { kind: "code", name: queryText(event), role: "query outside the transaction", site: siteOf(event.use.call) },
          ],
          steps: stepsFrom(held, event, `query through ${event.use.anyInstance ? event.use.library : `\`${event.ref.name}\``} instead of \`${trx}\``),
          data: { client: event.ref.name, transaction: trx, library: event.use.library },
        });
      },
      custom,
    );
  },
};
