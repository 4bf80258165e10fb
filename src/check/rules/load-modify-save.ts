/**
 * load-modify-save: a record read with `await`, a field of it changed from its own value, and
 * the record (or the new value) saved with `await`: `const acct = await Account.findOne(…);
 * acct.balance -= amount; await acct.save();`. Two concurrent calls read the same balance and
 * the second save overwrites the first: a lost update in the database, which no in-process
 * lock of one server prevents. The fix is an atomic update or optimistic concurrency.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { ReferenceIndex } from "../analysis/call-graph.js";
import { LockHeld } from "../analysis/lock-held.js";
import { shortSite, siteOf } from "../analysis/node-site.js";
import type { FunctionNode } from "../analysis/own-flow.js";
import { forEachOwnNode, isAsyncFunction, isFunctionNode, skipOuter } from "../analysis/own-flow.js";

// the calls that write a record back; an atomic increment is not one of them
const SAVES = new Set([
  "save",
  "update",
  "updateOne",
  "put",
  "upsert",
  "persist",
  "persistAndFlush",
  "flush",
  "replaceOne",
  "findOneAndUpdate",
  "findByIdAndUpdate",
  "set",
  "hset",
  "store",
  "merge",
  "write",
]);
// a load that locks the row, or a write that checks a version: the read-modify-write is safe
const LOCKED_LOAD = /forUpdate|FOR\s+UPDATE|forNoKeyUpdate|pessimistic|LOCK\.UPDATE|lock\s*:/i;
const CHECKED_SAVE = /\bversion\b|\$inc\b|\bincrement\b|\bdecrement\b/;

interface Load {
  readonly sym: ts.Symbol;
  readonly name: string;
  readonly node: ts.AwaitExpression;
}

interface Change {
  readonly load: Load;
  /** The field changed (`balance`), or undefined for the loaded value itself. */
  readonly field: string | undefined;
  readonly node: ts.Node;
}

function symbolOf(n: ts.Node, checker: ts.TypeChecker): ts.Symbol | undefined {
  return checker.getSymbolAtLocation(n);
}

/** `L.f` (or `L` itself when `field` is undefined) is read inside `expr`. */
function reads(expr: ts.Node, load: Load, field: string | undefined, checker: ts.TypeChecker): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found || isFunctionNode(n)) return;
    if (
      field !== undefined &&
      ts.isPropertyAccessExpression(n) &&
      n.name.text === field &&
      ts.isIdentifier(skipOuter(n.expression)) &&
      symbolOf(skipOuter(n.expression), checker) === load.sym
    )
      found = true;
    else if (field === undefined && ts.isIdentifier(n) && n.text === load.name && symbolOf(n, checker) === load.sym) found = true;
    else ts.forEachChild(n, visit);
  };
  visit(expr);
  return found;
}

const ARITHMETIC = new Set([ts.SyntaxKind.PlusToken, ts.SyntaxKind.MinusToken, ts.SyntaxKind.AsteriskToken, ts.SyntaxKind.SlashToken]);

/** An arithmetic expression inside `expr` that reads `L.f` (or `L`): a new value computed from the old. */
function derivedIn(expr: ts.Node, load: Load, checker: ts.TypeChecker): { node: ts.Node; field: string | undefined } | undefined {
  let hit: { node: ts.Node; field: string | undefined } | undefined;
  const visit = (n: ts.Node): void => {
    if (hit || isFunctionNode(n)) return;
    if (ts.isBinaryExpression(n) && ARITHMETIC.has(n.operatorToken.kind)) {
      for (const side of [n.left, n.right]) {
        const s = skipOuter(side);
        const inner = ts.isCallExpression(s) && s.arguments.length === 1 ? skipOuter(s.arguments[0]!) : s; // Number(v) + 1
        if (ts.isPropertyAccessExpression(inner) && ts.isIdentifier(skipOuter(inner.expression)) && symbolOf(skipOuter(inner.expression), checker) === load.sym)
          hit = { node: n, field: inner.name.text };
        else if (ts.isIdentifier(inner) && inner.text === load.name && symbolOf(inner, checker) === load.sym) hit = { node: n, field: undefined };
      }
      if (hit) return;
    }
    ts.forEachChild(n, visit);
  };
  visit(expr);
  return hit;
}

/** Conversions of a loaded value that keep it the loaded value: `Number(await redis.get(k))`. */
const CONVERSIONS = new Set(["Number", "parseInt", "parseFloat", "String", "BigInt", "Boolean"]);

/**
 * The awaited call an initialiser loads its value from: `await find(…)`, or that value converted
 * or defaulted (`Number((await redis.get(k)) ?? 0)`, `JSON.parse(await get(k))`).
 */
function loadedBy(init: ts.Expression): ts.AwaitExpression | undefined {
  const x = skipOuter(init);
  if (ts.isAwaitExpression(x)) return ts.isCallExpression(skipOuter(x.expression)) ? x : undefined;
  if (ts.isCallExpression(x) && x.arguments.length >= 1) {
    const callee = skipOuter(x.expression);
    const conv =
      (ts.isIdentifier(callee) && CONVERSIONS.has(callee.text)) ||
      (ts.isPropertyAccessExpression(callee) && callee.name.text === "parse" && skipOuter(callee.expression).getText() === "JSON");
    return conv ? loadedBy(x.arguments[0]!) : undefined;
  }
  if (ts.isBinaryExpression(x) && (x.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || x.operatorToken.kind === ts.SyntaxKind.BarBarToken))
    return loadedBy(x.left);
  return undefined;
}

class FunctionScan {
  readonly loads: Load[] = [];
  readonly changes: Change[] = [];

  constructor(
    private readonly fn: FunctionNode,
    private readonly checker: ts.TypeChecker,
  ) {}

  private loadOf(e: ts.Expression): Load | undefined {
    const x = skipOuter(e);
    if (!ts.isIdentifier(x)) return undefined;
    const sym = symbolOf(x, this.checker);
    return this.loads.find((l) => l.sym === sym);
  }

  scan(): void {
    forEachOwnNode(this.fn, (n) => {
      // const acct = await Account.findOne(…)
      if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer) {
        const init = loadedBy(n.initializer);
        if (init) {
          const sym = symbolOf(n.name, this.checker);
          if (sym) this.loads.push({ sym, name: n.name.text, node: init });
        }
      }
      // acct.balance -= n; acct.balance = acct.balance - n; acct.hits++
      if (ts.isBinaryExpression(n) && ts.isPropertyAccessExpression(skipOuter(n.left))) {
        const left = skipOuter(n.left) as ts.PropertyAccessExpression;
        const load = this.loadOf(left.expression);
        const op = n.operatorToken.kind;
        if (load && op !== ts.SyntaxKind.EqualsToken && op >= ts.SyntaxKind.FirstCompoundAssignment && op <= ts.SyntaxKind.LastCompoundAssignment)
          this.changes.push({ load, field: left.name.text, node: n });
        else if (load && op === ts.SyntaxKind.EqualsToken && reads(n.right, load, left.name.text, this.checker))
          this.changes.push({ load, field: left.name.text, node: n });
      }
      if (
        (ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) &&
        (n.operator === ts.SyntaxKind.PlusPlusToken || n.operator === ts.SyntaxKind.MinusMinusToken)
      ) {
        const operand = skipOuter(n.operand);
        const load = ts.isPropertyAccessExpression(operand) ? this.loadOf(operand.expression) : undefined;
        if (load && ts.isPropertyAccessExpression(operand)) this.changes.push({ load, field: operand.name.text, node: n });
      }
    });
  }

  /** Each save of a changed record: [the save call, the change]. */
  *saves(): Generator<[ts.CallExpression, Change]> {
    const done = new Set<Load>();
    const found: [ts.CallExpression, Change][] = [];
    forEachOwnNode(this.fn, (n) => {
      if (!ts.isCallExpression(n) || !isAwaited(n)) return;
      const callee = skipOuter(n.expression);
      if (!ts.isPropertyAccessExpression(callee) || !SAVES.has(callee.name.text)) return;
      if (CHECKED_SAVE.test(n.getText())) return;
      for (const load of this.loads) {
        if (done.has(load) || n.getStart() < load.node.end) continue;
        const receiverIsRecord = this.loadOf(callee.expression) === load;
        const passed = n.arguments.some((a) => reads(a, load, undefined, this.checker));
        // the record changed in place and then written back (`acct.save()`, `repo.save(acct)`, `em.flush()`)
        const change = this.changes.find((c) => c.load === load && c.node.getStart() > load.node.end && c.node.end <= n.getStart());
        if (change && (receiverIsRecord || passed || (callee.name.text === "flush" && n.arguments.length === 0))) {
          found.push([n, change]);
          done.add(load);
          continue;
        }
        // a new value computed from the loaded one, written by the call (`update({ data: { n: row.n + 1 } })`, `set(k, Number(v) + 1)`)
        const derived = n.arguments.map((a) => derivedIn(a, load, this.checker)).find((d) => d !== undefined);
        if (derived && !receiverIsRecord) {
          found.push([n, { load, field: derived.field, node: derived.node }]);
          done.add(load);
        }
      }
    });
    yield* found;
  }
}

function isAwaited(call: ts.CallExpression): boolean {
  let cur: ts.Node = call;
  while (cur.parent && (ts.isParenthesizedExpression(cur.parent) || ts.isAsExpression(cur.parent) || ts.isNonNullExpression(cur.parent))) cur = cur.parent;
  return !!cur.parent && (ts.isAwaitExpression(cur.parent) || ts.isReturnStatement(cur.parent));
}

export const loadModifySave: Rule = {
  meta: {
    id: "load-modify-save",
    description: "a record read with await, a field changed from its own value, then saved with await: concurrent calls overwrite each other's update",
    certainty: "potential",
    defaultSeverity: "error",
    scope: "program",
  },
  checkProgram(ctx) {
    const held = new LockHeld(ctx.checker, new ReferenceIndex(ctx.sourceFiles, ctx.checker));
    const check = (fn: FunctionNode): void => {
      const scan = new FunctionScan(fn, ctx.checker);
      scan.scan();
      if (scan.loads.length === 0) return;
      for (const [save, change] of scan.saves()) {
        const { load } = change;
        if (LOCKED_LOAD.test(load.node.getText())) continue;
        if (held.heldAcross(load.node.getStart(), save)) continue;
        const what = change.field !== undefined ? `\`${load.name}.${change.field}\`` : `\`${load.name}\``;
        const loadText = load.node.expression.getText().replace(/\s+/g, " ");
        ctx.report({
          node: save,
          summary: `${what} is read with \`await\` at ${shortSite(load.node)}, changed from its own value at ${shortSite(change.node)} and saved here: two concurrent calls read the same value, and the second save overwrites the first's update`,
          fix: `Make it one atomic write: an increment in the database (Prisma \`{ ${change.field ?? "n"}: { increment: … } }\`, MongoDB \`$inc\`, SQL \`UPDATE … SET ${change.field ?? "n"} = ${change.field ?? "n"} + $1\`, sequelize/typeorm \`increment(…)\`, Redis \`INCRBY\`); or use optimistic concurrency (a \`version\` checked in the update's where, retried on conflict); or lock the row when loading it (\`SELECT … FOR UPDATE\` in a transaction).`,
          subjects: [
            { kind: "code", name: loadText.length > 60 ? `${loadText.slice(0, 57)}…` : loadText, role: "loaded", site: siteOf(load.node) },
            { kind: "code", name: what.replace(/`/g, ""), role: "changed from its own value", site: siteOf(change.node) },
            { kind: "code", name: save.expression.getText(), role: "saved", site: siteOf(save) },
          ],
          steps: [
            { text: `\`${load.name}\` loaded (await): a concurrent call loads the same value`, site: siteOf(load.node) },
            { text: `${what} changed from the loaded value`, site: siteOf(change.node) },
            { text: "saved: overwrites what a concurrent call saved meanwhile", site: siteOf(save) },
          ],
          data: { record: load.name, field: change.field },
        });
      }
    };
    const visit = (n: ts.Node): void => {
      if (isFunctionNode(n) && isAsyncFunction(n)) check(n);
      ts.forEachChild(n, visit);
    };
    for (const sf of ctx.sourceFiles) visit(sf);
  },
};
