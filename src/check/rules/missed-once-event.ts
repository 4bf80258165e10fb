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
import { knowledgeOf } from "../knowledge/index.js";
import { packageOfTypeNode } from "../knowledge/package-knowledge.js";

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

/** How an event fires: once in the emitter's life, or on entering a state (p-queue's "idle"). */
type EventKind = "once" | "state";

interface Wait {
  readonly emitter: ts.Expression;
  readonly event: string;
  readonly kind: EventKind;
  /** The call that adds the listener: `once(c, "ready")`, `c.once("ready", resolve)`. */
  readonly listen: ts.CallExpression;
}

/** The emitter and event of a wait for a one-shot or state event, or undefined. */
function waitedEvent(
  checker: ts.TypeChecker,
  waited: ts.Expression,
  kindOf: (emitter: ts.Expression, event: string) => EventKind | undefined,
): Wait | undefined {
  const e = unwrap(waited);
  // events.once(emitter, "ready")
  if (ts.isCallExpression(e) && calleeName(e) === "once" && e.arguments.length >= 2) {
    const [emitter, ev] = e.arguments;
    if (!ev || !ts.isStringLiteralLike(ev) || !emitter || !isFromNodeModule(calleeSymbol(checker, e), ["events"])) return undefined;
    const kind = kindOf(emitter, ev.text);
    return kind ? { emitter, event: ev.text, kind, listen: e } : undefined;
  }
  // new Promise((resolve) => emitter.once("ready", resolve))
  if (ts.isNewExpression(e) && calleeName(e) === "Promise") {
    const executor = e.arguments?.[0] && unwrap(e.arguments[0]);
    if (!executor || !(ts.isArrowFunction(executor) || ts.isFunctionExpression(executor))) return undefined;
    let found: Wait | undefined;
    const go = (n: ts.Node): void => {
      if (found || (n !== executor && ts.isFunctionLike(n))) return;
      if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(unwrap(n.expression))) {
        const callee = unwrap(n.expression) as ts.PropertyAccessExpression;
        const ev = n.arguments[0];
        if (LISTEN_ONCE.has(callee.name.text) && ev && ts.isStringLiteralLike(ev)) {
          const kind = kindOf(callee.expression, ev.text);
          if (kind) found = { emitter: callee.expression, event: ev.text, kind, listen: n };
        }
      }
      ts.forEachChild(n, go);
    };
    go(executor.body);
    return found;
  }
  return undefined;
}

/** `this.emit(event)` in the own flow of `fn` (not in a callback it schedules): emitted before `fn` returns. */
function emitIn(fn: ts.Node, event: string): ts.CallExpression | undefined {
  let hit: ts.CallExpression | undefined;
  const go = (n: ts.Node): void => {
    if (hit || (n !== fn && ts.isFunctionLike(n))) return;
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(unwrap(n.expression))) {
      const callee = unwrap(n.expression) as ts.PropertyAccessExpression;
      const ev = n.arguments[0];
      if (callee.name.text === "emit" && callee.expression.kind === ts.SyntaxKind.ThisKeyword && ev && ts.isStringLiteralLike(ev) && ev.text === event) hit = n;
    }
    ts.forEachChild(n, go);
  };
  go(fn);
  return hit;
}

/**
 * The `this.emit(event)` that the last touch of the emitter runs before returning: its class's
 * constructor (`new Producer(client)` when the client is ready: kafka-node#1349) or the method
 * called (`c.connect()` whose body emits "connect" at once). Node's own emitters emit these on a
 * later turn; a program's class may not.
 */
function syncEmit(checker: ts.TypeChecker, touch: ts.Node, event: string): { emit: ts.CallExpression; by: ts.Expression } | undefined {
  let made: ts.Expression | undefined;
  if (ts.isVariableDeclaration(touch) && touch.initializer) made = unwrap(touch.initializer);
  else if (ts.isBinaryExpression(touch)) made = unwrap(touch.right);
  else if (ts.isCallExpression(touch)) made = touch;
  if (!made) return undefined;
  if (ts.isNewExpression(made)) {
    let sym = checker.getSymbolAtLocation(made.expression);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
    const cls = sym?.valueDeclaration;
    if (!cls || !ts.isClassLike(cls)) return undefined;
    const ctor = cls.members.find(ts.isConstructorDeclaration);
    const emit = ctor?.body ? emitIn(ctor.body, event) : undefined;
    return emit ? { emit, by: made } : undefined;
  }
  if (ts.isCallExpression(made) && ts.isPropertyAccessExpression(unwrap(made.expression))) {
    const callee = unwrap(made.expression) as ts.PropertyAccessExpression;
    const decl = checker.getSymbolAtLocation(callee.name)?.valueDeclaration;
    const emit = decl && ts.isMethodDeclaration(decl) && decl.body ? emitIn(decl.body, event) : undefined;
    return emit ? { emit, by: made } : undefined;
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
    const kindOf = (emitter: ts.Expression, event: string): EventKind | undefined => {
      if (events.has(event)) return "once";
      const pkg = packageOfTypeNode(checker.getNonNullableType(checker.getTypeAtLocation(emitter)));
      return pkg && knowledgeOf(pkg)?.stateEvents?.includes(event) ? "state" : undefined;
    };
    const lineOf = (n: ts.Node) => sourceFile.getLineAndCharacterOfPosition(n.getStart()).line + 1;
    const visit = (n: ts.Node): void => {
      if ((ts.isCallExpression(n) && calleeName(n) === "once") || (ts.isNewExpression(n) && calleeName(n) === "Promise")) check(n);
      ts.forEachChild(n, visit);
    };
    const check = (waited: ts.CallExpression | ts.NewExpression): void => {
      const found = waitedEvent(checker, waited, kindOf);
      if (!found) return;
      let top: ts.Node = waited;
      while (ts.isParenthesizedExpression(top.parent) || ts.isAsExpression(top.parent)) top = top.parent;
      const aw = ts.isAwaitExpression(top.parent) ? top.parent : undefined;
      const scope = ts.findAncestor(waited, ts.isFunctionLike) ?? sourceFile;
      const key = emitterKey(found.emitter);
      if (key === undefined) return; // an emitter made by a call right here: new, so nothing has fired yet
      const touch = lastTouch(scope, key, waited.getStart(), waited);
      const fired = touch ? syncEmit(checker, touch, found.event) : undefined;
      if (fired) {
        ctx.report({
          node: found.listen,
          summary: `this waits for "${found.event}", but \`${shortText(fired.by, 40)}\` at line ${lineOf(fired.by)} emits it before returning (line ${lineOf(fired.emit)}), before this listener is added; an emitter does not replay an event, so the wait never ends`,
          fix: `keep the state: set a flag (or cache a promise) where "${found.event}" is emitted and wait only \`if (!ready)\`; or emit it on a later turn (\`process.nextTick(() => this.emit("${found.event}"))\`) so listeners added right after can hear it`,
          data: { event: found.event },
        });
        return;
      }
      // a promise kept for later (`this.ready = once(c, "ready")`, made with the emitter) is the fix
      if (!aw || scope === sourceFile) return;
      if (guardedByState(aw, scope)) return;
      const triggered = touch !== undefined && !(found.kind === "state" && !ts.isCallExpression(touch));
      // made or triggered just before, with no await in between: the event comes on a later turn
      if (touch && triggered && !awaitBetween(scope, touch.end, aw.getStart())) return;
      if (found.kind === "state") {
        ctx.report({
          node: found.listen,
          summary: `\`${shortText(aw, 50)}\` waits for "${found.event}", which is emitted only when \`${key}\` becomes ${found.event}: ${touch && triggered ? `after the await between line ${lineOf(touch)} and here it` : `\`${key}\``} may be ${found.event} already, and then this await never ends`,
          fix: `check the state first, or use the library's own wait, which does (p-queue: \`await ${key}.onIdle()\` / \`onEmpty()\`)`,
          data: { event: found.event },
        });
        return;
      }
      const why = touch
        ? `an await between line ${lineOf(touch)} (where \`${key}\` was last made or triggered) and this listener lets it fire first`
        : `\`${key}\` was made elsewhere and may have emitted it already`;
      ctx.report({
        node: found.listen,
        summary: `\`${shortText(aw, 50)}\` waits for "${found.event}", which fires once: ${why}; an emitter does not replay an event, so this await would never end`,
        fix: `keep the state: set a flag (or cache \`once(${key}, "${found.event}")\` as a promise) when the emitter is made, and await only \`if (!ready)\`; or add the listener before anything that can let the event fire`,
        data: { event: found.event },
      });
    };
    visit(sourceFile);
  },
};
