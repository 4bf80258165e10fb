/**
 * missed-once-event: an await on a one-shot event (`await once(client, "ready")`, or a promise
 * resolved by `client.once("connect", resolve)`) that may already have fired. An emitter does
 * not replay an event: when "ready" came before the listener was added, the await never ends.
 * Safe when the listener is added right after what triggers the event (the emitter was just
 * made, or `connect()` / `listen()` was just called, with no await in between: Node emits
 * these on a later turn), or when the code checks a state first.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { calleeName, calleeSymbol, firstInFunctionBetween, isFromNodeModule, shortText, unwrap } from "../analysis/ts-util.js";

/** Events an emitter sends once in its life (per connection or start). */
const ONE_SHOT = [
  "ready",
  "connect",
  "connected",
  "secureConnect",
  "open",
  "listening",
  "online",
  "spawn",
  "close",
  "closed",
  "end",
  "finish",
  "exit",
  "disconnect",
];

const LISTEN_ONCE = new Set(["once", "on", "addListener", "prependOnceListener", "prependListener"]);

/** The emitter and event of an awaited one-shot wait, or undefined. */
function awaitedEvent(
  checker: ts.TypeChecker,
  awaited: ts.Expression,
  events: ReadonlySet<string>,
): { emitter: ts.Expression; event: string; listen: ts.CallExpression } | undefined {
  const e = unwrap(awaited);
  // events.once(emitter, "ready")
  if (ts.isCallExpression(e) && calleeName(e) === "once" && e.arguments.length >= 2) {
    const [emitter, ev] = e.arguments;
    if (ev && ts.isStringLiteralLike(ev) && events.has(ev.text) && emitter && isFromNodeModule(calleeSymbol(checker, e), ["events"]))
      return { emitter, event: ev.text, listen: e };
    return undefined;
  }
  // new Promise((resolve) => emitter.once("ready", resolve))
  if (ts.isNewExpression(e) && calleeName(e) === "Promise") {
    const executor = e.arguments?.[0] && unwrap(e.arguments[0]);
    if (!executor || !(ts.isArrowFunction(executor) || ts.isFunctionExpression(executor))) return undefined;
    let found: { emitter: ts.Expression; event: string; listen: ts.CallExpression } | undefined;
    const go = (n: ts.Node): void => {
      if (found || (n !== executor && ts.isFunctionLike(n))) return;
      if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(unwrap(n.expression))) {
        const callee = unwrap(n.expression) as ts.PropertyAccessExpression;
        const ev = n.arguments[0];
        if (LISTEN_ONCE.has(callee.name.text) && ev && ts.isStringLiteralLike(ev) && events.has(ev.text))
          found = { emitter: callee.expression, event: ev.text, listen: n };
      }
      ts.forEachChild(n, go);
    };
    go(executor.body);
    return found;
  }
  return undefined;
}

/** `this.client`, `client`: a name for the emitter that other statements can be matched against. */
function emitterKey(e: ts.Expression): string | undefined {
  const u = unwrap(e);
  if (ts.isIdentifier(u) || u.kind === ts.SyntaxKind.ThisKeyword) return u.getText();
  if (ts.isPropertyAccessExpression(u)) {
    const base = emitterKey(u.expression);
    return base === undefined ? undefined : `${base}.${u.name.text}`;
  }
  return undefined;
}

/** True when the wait sits under a condition (`if (!ready) await once(…)`): the code keeps a state. */
function guardedByState(n: ts.Node, fn: ts.Node): boolean {
  for (let cur: ts.Node = n; cur !== fn && cur.parent; cur = cur.parent) {
    const p = cur.parent;
    if ((ts.isIfStatement(p) && p.expression !== cur) || (ts.isConditionalExpression(p) && p.condition !== cur)) return true;
    if (
      ts.isBinaryExpression(p) &&
      p.right === cur &&
      [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken].includes(p.operatorToken.kind)
    )
      return true;
    if (ts.isWhileStatement(p) || ts.isDoStatement(p)) return true;
  }
  return false;
}

/**
 * The last place before `at`, in function `fn` (nested functions aside), that makes or triggers
 * the emitter: its declaration or an assignment to it, or a call of one of its methods.
 */
function lastTouch(fn: ts.Node, key: string, at: number, skip: ts.Node): ts.Node | undefined {
  let last: ts.Node | undefined;
  const go = (n: ts.Node): void => {
    if (n.pos >= at) return;
    if (n !== fn && ts.isFunctionLike(n)) return;
    if (n === skip) return;
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === key && n.end <= at) last = n;
    else if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken && emitterKey(n.left) === key && n.end <= at) last = n;
    else if (ts.isCallExpression(n) && n.end <= at) {
      const callee = unwrap(n.expression);
      if (ts.isPropertyAccessExpression(callee) && emitterKey(callee.expression) === key) last = n;
    }
    ts.forEachChild(n, go);
  };
  go(fn);
  return last;
}

function awaitBetween(fn: ts.Node, from: number, to: number): boolean {
  return firstInFunctionBetween(fn, from, to, ts.isAwaitExpression) !== undefined;
}

export const missedOnceEvent: Rule = {
  meta: {
    id: "missed-once-event",
    description: 'an await on a one-shot event (once(x, "ready")) that may already have fired, with no state kept',
    certainty: "potential",
    defaultSeverity: "warning",
    scope: "file",
    optionsSchema: {
      type: "object",
      properties: {
        events: { type: "array", items: { type: "string" }, description: "more event names that fire once (added to ready, connect, open, listening, …)" },
      },
      additionalProperties: false,
    },
  },
  checkFile(ctx) {
    const { checker, sourceFile } = ctx;
    const extra = Array.isArray(ctx.options.events) ? ctx.options.events.filter((x): x is string => typeof x === "string") : [];
    const events = new Set([...ONE_SHOT, ...extra]);
    if (!sourceFile.text.includes("once") && !sourceFile.text.includes(".on(")) return;
    const visit = (n: ts.Node): void => {
      if (ts.isAwaitExpression(n)) check(n);
      ts.forEachChild(n, visit);
    };
    const check = (aw: ts.AwaitExpression): void => {
      const found = awaitedEvent(checker, aw.expression, events);
      if (!found) return;
      const fn = ts.findAncestor(aw, ts.isFunctionLike);
      if (!fn) return;
      if (guardedByState(aw, fn)) return;
      const key = emitterKey(found.emitter);
      if (key === undefined) return; // an emitter made by a call right here: new, so nothing has fired yet
      const touch = lastTouch(fn, key, aw.getStart(), aw);
      // made or triggered just before, with no await in between: the event comes on a later turn
      if (touch && !awaitBetween(fn, touch.end, aw.getStart())) return;
      const why = touch
        ? `an await between line ${sourceFile.getLineAndCharacterOfPosition(touch.getStart()).line + 1} (where \`${key}\` was last made or triggered) and this listener lets it fire first`
        : `\`${key}\` was made elsewhere and may have emitted it already`;
      ctx.report({
        node: aw,
        summary: `\`${shortText(aw, 50)}\` waits for "${found.event}", which fires once: ${why}; an emitter does not replay an event, so this await would never end`,
        fix: `keep the state: set a flag (or cache \`once(${key}, "${found.event}")\` as a promise) when the emitter is made, and await only \`if (!ready)\`; or add the listener before anything that can let the event fire`,
        data: { event: found.event },
      });
    };
    visit(sourceFile);
  },
};
