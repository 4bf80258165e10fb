/**
 * check-then-act: shared state tested, then set after an `await` on the strength of that test:
 * `if (!this.client) { this.client = await connect(); }`, or `if (state !== "connected") {
 * await start(); state = "connected"; }`. Every call that arrives while the first is still
 * waiting passes the same test, so the work runs once per caller (several connections, the
 * last one wins, the others leak). The fix is to claim the work before waiting: cache the
 * promise, or set the state first.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { calleeOf, ReferenceIndex } from "../analysis/call-graph.js";
import { LockHeld } from "../analysis/lock-held.js";
import { shortSite, siteOf } from "../analysis/node-site.js";
import type { FunctionNode } from "../analysis/own-flow.js";
import { forEachOwnNode, isAsyncFunction, isFunctionNode, skipOuter } from "../analysis/own-flow.js";
import type { SharedTarget } from "../analysis/shared-state.js";
import { Ids, sharedTarget } from "../analysis/shared-state.js";

/** How deep awaited calls are followed for the write that acts on a check. */
const CALL_DEPTH = 2;

interface Check {
  /** The test that reads the state. */
  readonly test: ts.Expression;
  readonly target: SharedTarget;
  /** The statements that run because the test passed. */
  readonly scope: readonly ts.Node[];
}

/** The shared targets an expression reads (maximal accesses: `this.client`, not `this`). */
function readTargets(expr: ts.Expression, fn: FunctionNode, checker: ts.TypeChecker, ids: Ids): { target: SharedTarget; node: ts.Expression }[] {
  const out: { target: SharedTarget; node: ts.Expression }[] = [];
  const visit = (n: ts.Node): void => {
    if (isFunctionNode(n)) return;
    if ((ts.isIdentifier(n) || ts.isPropertyAccessExpression(n)) && !(ts.isPropertyAccessExpression(n.parent) && n.parent.expression === n)) {
      const t = sharedTarget(n, fn, checker, ids);
      if (t) out.push({ target: t, node: n });
      if (ts.isIdentifier(n)) return;
    }
    ts.forEachChild(n, visit);
  };
  visit(expr);
  return out;
}

function exits(stmt: ts.Statement): boolean {
  if (ts.isReturnStatement(stmt) || ts.isThrowStatement(stmt)) return true;
  if (ts.isBlock(stmt)) return stmt.statements.length > 0 && exits(stmt.statements[stmt.statements.length - 1]!);
  return false;
}

function returns(stmt: ts.Statement): boolean {
  if (ts.isReturnStatement(stmt)) return true;
  if (ts.isBlock(stmt)) return stmt.statements.length > 0 && returns(stmt.statements[stmt.statements.length - 1]!);
  return false;
}

/** The program function an `await f()` / `await this.m()` runs, when its body is in sight. */
function awaitedCallee(n: ts.Node, checker: ts.TypeChecker): FunctionNode | undefined {
  if (!ts.isAwaitExpression(n)) return undefined;
  const call = skipOuter(n.expression);
  if (!ts.isCallExpression(call)) return undefined;
  const callee = skipOuter(call.expression);
  // a method of the same object, or a plain function: the state it writes is the caller's
  if (!(ts.isIdentifier(callee) || (ts.isPropertyAccessExpression(callee) && callee.expression.kind === ts.SyntaxKind.ThisKeyword))) return undefined;
  const fn = calleeOf(call, checker);
  return fn && fn.body && isAsyncFunction(fn) ? fn : undefined;
}

/**
 * What a scope writes (the assigned expressions' texts), also in the functions it awaits
 * (`await this.connect()` that sets `this.isConnected`), and whether it awaits: a cheap look
 * before any type query (only the awaited calls are resolved).
 */
function scopeFacts(scope: readonly ts.Node[], checker: ts.TypeChecker | undefined): { written: Set<string>; awaits: boolean } {
  const written = new Set<string>();
  let awaits = false;
  const seen = new Set<ts.Node>();
  const visit = (n: ts.Node, depth: number): void => {
    if (isFunctionNode(n)) return;
    if (ts.isAwaitExpression(n) || (ts.isForOfStatement(n) && n.awaitModifier)) awaits = true;
    if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment)
      written.add(skipOuter(n.left).getText());
    const callee = checker && depth < CALL_DEPTH ? awaitedCallee(n, checker) : undefined;
    if (callee && !seen.has(callee)) {
      seen.add(callee);
      ts.forEachChild(callee.body!, (c) => visit(c, depth + 1));
    }
    ts.forEachChild(n, (c) => visit(c, depth));
  };
  for (const root of scope) visit(root, 0);
  return { written, awaits };
}

/** The checks of a function: `if (test) { … }`, and `if (test) return …;` guarding the rest of its block. */
function checksOf(fn: FunctionNode, checker: ts.TypeChecker, ids: Ids): Check[] {
  const out: Check[] = [];
  forEachOwnNode(fn, (n) => {
    if (!ts.isIfStatement(n)) return;
    let scope: ts.Node[] = [n.thenStatement];
    if (!n.elseStatement && returns(n.thenStatement) && ts.isBlock(n.parent)) {
      // `if (this.client) return this.client;` … the rest of the block runs when the test failed
      // (a guard that throws asserts an invariant; it does not ask whether the work was done)
      scope = n.parent.statements.slice(n.parent.statements.indexOf(n) + 1);
    }
    const text = n.expression.getText();
    // syntax first; the awaited calls are resolved only when the scope's own writes do not match
    let facts = scopeFacts(scope, undefined);
    if (!facts.awaits) return;
    if (![...facts.written].some((w) => text.includes(w))) facts = scopeFacts(scope, checker);
    if (![...facts.written].some((w) => text.includes(w))) return;
    const reads = readTargets(n.expression, fn, checker, ids).filter((r) => facts.written.has(r.node.getText()));
    const seen = new Set<string>();
    for (const r of reads) {
      if (seen.has(r.target.key)) continue;
      seen.add(r.target.key);
      out.push({ test: n.expression, target: r.target, scope });
    }
  });
  return out;
}

interface Act {
  readonly write: ts.BinaryExpression;
  readonly wait: ts.Node;
  /** The awaited calls that lead to the write, when it is made in a function the check's scope awaits. */
  readonly via: readonly ts.CallExpression[];
}

/**
 * The write to the checked target made after an await in the check's scope, unless the work was
 * claimed or re-checked first; else one made, after an await of its own, in a function the scope
 * awaits before any write of its own (`if (!this.isConnected) await this.connect()`, where
 * `connect()` sets it once its transport has started: stitch-sdk#106).
 */
function actOf(check: Check, fn: FunctionNode, checker: ts.TypeChecker, ids: Ids, depth = 0): Act | undefined {
  const direct = directActOf(check, fn, checker, ids);
  if (direct || depth >= CALL_DEPTH) return direct;
  const calls: { aw: ts.AwaitExpression; callee: FunctionNode }[] = [];
  let firstWrite: number | undefined;
  for (const root of check.scope) {
    const visit = (n: ts.Node): void => {
      if (isFunctionNode(n)) return;
      const callee = awaitedCallee(n, checker);
      if (callee && callee !== fn) calls.push({ aw: n as ts.AwaitExpression, callee });
      if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment) {
        const t = sharedTarget(skipOuter(n.left), fn, checker, ids);
        if (t?.key === check.target.key && firstWrite === undefined) firstWrite = n.getStart();
      }
      ts.forEachChild(n, visit);
    };
    visit(root);
  }
  for (const { aw, callee } of calls) {
    // the caller claimed the work before this call: the callee's write decides nothing
    if (firstWrite !== undefined && firstWrite < aw.getStart()) continue;
    const inner = actOf({ ...check, scope: [callee.body!] }, callee, checker, ids, depth + 1);
    if (inner) return { ...inner, via: [skipOuter(aw.expression) as ts.CallExpression, ...inner.via] };
  }
  return undefined;
}

function directActOf(check: Check, fn: FunctionNode, checker: ts.TypeChecker, ids: Ids): Act | undefined {
  const awaits: ts.Node[] = [];
  const writes: ts.BinaryExpression[] = [];
  const retests: ts.Node[] = [];
  for (const root of check.scope) {
    const visit = (n: ts.Node): void => {
      if (isFunctionNode(n)) return;
      if (ts.isAwaitExpression(n)) awaits.push(n);
      else if (ts.isForOfStatement(n) && n.awaitModifier) awaits.push(n.expression);
      if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment) {
        const t = sharedTarget(skipOuter(n.left), fn, checker, ids);
        if (t?.key === check.target.key) writes.push(n);
      }
      if (
        (ts.isIfStatement(n) || ts.isWhileStatement(n) || ts.isConditionalExpression(n)) &&
        readTargets(ts.isConditionalExpression(n) ? n.condition : n.expression, fn, checker, ids).some((r) => r.target.key === check.target.key)
      ) {
        retests.push(ts.isConditionalExpression(n) ? n.condition : n.expression);
      }
      ts.forEachChild(n, visit);
    };
    visit(root);
  }
  if (awaits.length === 0 || writes.length === 0) return undefined;
  const firstAwait = awaits.reduce((a, b) => (a.getStart() <= b.getStart() ? a : b));
  // claimed before the first wait (`this.starting = true; await …`): later callers see the claim
  if (writes.some((w) => w.end <= firstAwait.getStart())) return undefined;
  for (const w of writes) {
    // a reset after the work (`pending = null`, `this.socket = undefined`) claims nothing: it undoes
    if (isReset(w.right)) continue;
    // the await that completes before this write on its path: in its value, or before it and not
    // in a statement that leaves first (`return new X(await f())`)
    const wait = awaits.find((a) => a.end <= w.end && (a.getStart() >= w.right.getStart() || (a.end <= w.getStart() && !leavesBefore(a, w))));
    if (!wait) continue;
    // tested again after that await (double-checked): the write is made on fresh knowledge
    if (retests.some((r) => r.getStart() >= wait.end && r.end <= w.getStart())) continue;
    // `this.p = this.p ?? connect()`, `this.ready = false`: a write that reads the target again, or resets it, decides nothing
    return { write: w, wait, via: [] };
  }
  return undefined;
}

function isReset(value: ts.Expression): boolean {
  const v = skipOuter(value);
  return (
    v.kind === ts.SyntaxKind.NullKeyword || v.kind === ts.SyntaxKind.FalseKeyword || (ts.isIdentifier(v) && v.text === "undefined") || ts.isVoidExpression(v)
  );
}

/** The await is inside a `return`/`throw`, or a block that ends in one, that does not also contain `w`: that path leaves before the write. */
function leavesBefore(a: ts.Node, w: ts.Node): boolean {
  for (let p: ts.Node | undefined = a.parent; p && !isFunctionNode(p); p = p.parent) {
    if (w.pos >= p.pos && w.end <= p.end) return false;
    if (ts.isReturnStatement(p) || ts.isThrowStatement(p) || (ts.isBlock(p) && exits(p))) return true;
  }
  return false;
}

function viaText(act: Act): string {
  return act.via.length === 0 ? "" : `, in ${act.via.map((c) => `${c.expression.getText()}()`).join(" → ")} awaited after the test`;
}

function fixOf(check: Check, act: Act): string {
  const name = check.target.name;
  const value = skipOuter(act.write.right);
  if (ts.isAwaitExpression(value)) {
    const op = value.expression.getText().replace(/\s+/g, " ");
    const short = op.length > 40 ? "…" : op;
    return `Cache the promise, not its result, so every caller waits for the one operation: \`${name}Promise ??= ${short};\` then \`${name} = await ${name}Promise\` (and clear the promise if it rejects), or hold a lock across the check and the write.`;
  }
  return `Claim the work before waiting: set \`${name}\` to an in-progress state (or store the operation's promise and await it in every caller) before the first \`await\`, or hold a lock across the check and the write.`;
}

export const checkThenAct: Rule = {
  meta: {
    id: "check-then-act",
    description: "shared state tested, then set after an await on the strength of that test: concurrent callers all pass the test",
    certainty: "potential",
    defaultSeverity: "error",
    scope: "program",
  },
  checkProgram(ctx) {
    const ids = new Ids();
    const held = new LockHeld(ctx.checker, new ReferenceIndex(ctx.sourceFiles, ctx.checker));
    // one finding per write: a write reached from its own function's test and from a caller's
    // (through an awaited call) is one bug; the most direct test names it
    const best = new Map<ts.Node, { c: Check; act: Act }>();
    const check = (fn: FunctionNode): void => {
      for (const c of checksOf(fn, ctx.checker, ids)) {
        const act = actOf(c, fn, ctx.checker, ids);
        if (!act) continue;
        const prev = best.get(act.write);
        if (prev !== undefined && prev.act.via.length <= act.via.length) continue;
        if (held.heldAcross(c.test.getStart(), act.write)) continue;
        best.set(act.write, { c, act });
      }
    };
    const visit = (n: ts.Node): void => {
      if (isFunctionNode(n) && isAsyncFunction(n)) check(n);
      ts.forEachChild(n, visit);
    };
    for (const sf of ctx.sourceFiles) visit(sf);
    for (const { c, act } of best.values()) {
      const name = c.target.name;
      ctx.report({
        node: act.write,
        summary: `\`${name}\` is tested at ${shortSite(c.test)} and set here after an \`await\` (${shortSite(act.wait)})${viaText(act)}: every call that arrives during the await passes the same test and repeats the work, and the last write wins`,
        fix: fixOf(c, act),
        subjects: [
          { kind: "code", name, role: "tested", site: siteOf(c.test) },
          { kind: "code", name: act.wait.getText().slice(0, 60), role: "await: other calls pass the test here", site: siteOf(act.wait) },
          { kind: "code", name, role: "set after the await", site: siteOf(act.write) },
        ],
        steps: [
          { text: `\`${name}\` tested`, site: siteOf(c.test) },
          ...act.via.map((call) => ({ text: `awaits ${call.expression.getText()}()`, site: siteOf(call) })),
          { text: "await: a concurrent call tests it too, and passes", site: siteOf(act.wait) },
          { text: `\`${name}\` set, by each caller`, site: siteOf(act.write) },
        ],
        data: { variable: name },
      });
    }
  },
};
