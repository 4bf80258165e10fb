/**
 * unawaited-aggregate: `Promise.all` / `allSettled` / `race` / `any` whose result is dropped. The
 * seed's `gather(...)` without await: the caller goes on before the work is done.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { KEPT_TYPES_SCHEMA, keptTypes, lostPromises } from "../analysis/promise-use.js";

function describeCall(call: ts.CallExpression): { method: string; count: string } {
  const method = (call.expression as ts.PropertyAccessExpression).name.text;
  const first = call.arguments[0];
  const count = first && ts.isArrayLiteralExpression(first) ? `the ${first.elements.length} operations` : "the operations";
  return { method, count };
}

export const unawaitedAggregate: Rule = {
  meta: {
    id: "unawaited-aggregate",
    description: "Promise.all / allSettled / race / any whose result is neither awaited nor returned",
    certainty: "proven",
    defaultSeverity: "error",
    scope: "file",
    optionsSchema: KEPT_TYPES_SCHEMA,
  },
  checkFile(ctx) {
    const { checker, program, sourceFile } = ctx;
    const { dropped, unread } = lostPromises(program, checker, sourceFile, keptTypes(ctx.options));
    for (const { aggregate: call } of dropped) {
      if (!call) continue;
      const { method, count } = describeCall(call);
      ctx.report({
        node: call,
        summary: `\`Promise.${method}(…)\` is not awaited: the caller goes on before ${count} finish, and their failures reach no handler`,
        fix: `\`await Promise.${method}(…)\` (or return it) so the caller waits for the work and sees its failure`,
      });
    }
    for (const { decl, aggregate: call } of unread) {
      if (!call) continue;
      const { method, count } = describeCall(call);
      ctx.report({
        node: decl.name,
        summary: `\`${decl.name.text}\` holds \`Promise.${method}(…)\` but is never awaited: the caller goes on before ${count} finish, and their failures reach no handler`,
        fix: `\`await ${decl.name.text}\` (or return it) before relying on the work`,
      });
    }
  },
};
