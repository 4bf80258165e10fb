/**
 * read-await-write: shared state read before an `await` and written after it from the value
 * read, with no lock held across: every concurrent call reads the same old value, and all but
 * one of their updates are lost (the seed's counter race). Written to be quiet where ESLint's
 * require-atomic-updates is not: locals and objects the function made are private; a value
 * read again after the await is fresh; a write that does not derive from the old read is not
 * a lost update; code under a lock (or called only under one) is serialised.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { ReferenceIndex } from "../analysis/call-graph.js";
import { LockHeld } from "../analysis/lock-held.js";
import { shortSite, siteOf } from "../analysis/node-site.js";
import type { FunctionNode } from "../analysis/own-flow.js";
import { forEachOwnNode, isAsyncFunction, isFunctionNode, skipOuter } from "../analysis/own-flow.js";
import type { SharedTarget } from "../analysis/shared-state.js";
import { Ids, sharedCell, sharedCellTarget, sharedTarget } from "../analysis/shared-state.js";

/** A read of shared state whose value may be carried to a later write. */
interface Source {
  readonly target: SharedTarget;
  readonly node: ts.Node;
  /** The position by which the value has been read. */
  readonly at: number;
}

/** A value assigned to a local of the function: which shared reads it carries. */
interface Assignment {
  readonly pos: number;
  readonly sources: readonly Source[];
}

interface Write {
  readonly node: ts.Node;
  readonly target: SharedTarget;
  /** The value written (undefined for nothing to inspect). */
  readonly value: ts.Expression | undefined;
  /** `x += …`: x is read before the right side is evaluated. */
  readonly compound: boolean;
}

const COMPOUND = new Set([
  ts.SyntaxKind.PlusEqualsToken,
  ts.SyntaxKind.MinusEqualsToken,
  ts.SyntaxKind.AsteriskEqualsToken,
  ts.SyntaxKind.SlashEqualsToken,
  ts.SyntaxKind.PercentEqualsToken,
  ts.SyntaxKind.AsteriskAsteriskEqualsToken,
  ts.SyntaxKind.LessThanLessThanEqualsToken,
  ts.SyntaxKind.GreaterThanGreaterThanEqualsToken,
  ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken,
  ts.SyntaxKind.AmpersandEqualsToken,
  ts.SyntaxKind.BarEqualsToken,
  ts.SyntaxKind.CaretEqualsToken,
]);

/** The written value is the read one, or a part of it (`n = this.count.value` feeds `this.count = …`). */
function related(read: SharedTarget, written: SharedTarget): boolean {
  return read.key === written.key || read.key.startsWith(`${written.key}.`);
}

function isWritePosition(node: ts.Node): boolean {
  const p = node.parent;
  return (
    !!p &&
    ts.isBinaryExpression(p) &&
    p.left === node &&
    p.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
    p.operatorToken.kind <= ts.SyntaxKind.LastAssignment
  );
}

/** A maximal access expression: not the object of a longer property access (except a method's receiver). */
function isMaximalAccess(node: ts.Node): boolean {
  const p = node.parent;
  if (!p || !ts.isPropertyAccessExpression(p) || p.expression !== node) return true;
  return !!p.parent && ts.isCallExpression(p.parent) && p.parent.expression === p;
}

function isCondition(node: ts.Node, stop: number): boolean {
  for (let n: ts.Node | undefined = node; n && n.pos >= stop; n = n.parent) {
    const p: ts.Node | undefined = n.parent;
    if (!p) return false;
    if ((ts.isIfStatement(p) || ts.isWhileStatement(p)) && p.expression === n) return true;
    if (ts.isConditionalExpression(p) && p.condition === n) return true;
  }
  return false;
}

class FunctionCheck {
  private readonly awaits: ts.Node[] = [];
  private readonly reads: Source[] = [];
  private readonly locals = new Map<ts.Symbol, Assignment[]>();
  private readonly writes: Write[] = [];

  constructor(
    private readonly fn: FunctionNode,
    private readonly checker: ts.TypeChecker,
    private readonly ids: Ids,
  ) {}

  private target(expr: ts.Expression): SharedTarget | undefined {
    return sharedTarget(expr, this.fn, this.checker, this.ids);
  }

  private cellTarget(expr: ts.Expression): SharedTarget | undefined {
    return sharedCellTarget(expr, this.fn, this.checker, this.ids);
  }

  private localOf(node: ts.Node): ts.Symbol | undefined {
    if (!ts.isIdentifier(node)) return undefined;
    const sym = this.checker.getSymbolAtLocation(node);
    const decl = sym?.valueDeclaration;
    if (!sym || !decl || !(ts.isVariableDeclaration(decl) || ts.isBindingElement(decl))) return undefined;
    for (let p: ts.Node | undefined = decl.parent; p; p = p.parent) {
      if (p === this.fn) return sym;
      if (isFunctionNode(p)) return undefined;
    }
    return undefined;
  }

  /** The shared reads whose values `expr` carries at position `at`, directly or through locals. */
  sourcesOf(expr: ts.Node, throughAwaitedCalls = true): Source[] {
    const out: Source[] = [];
    const visit = (n: ts.Node): void => {
      if (isFunctionNode(n)) return;
      // a local given what an awaited call returned holds fresh data, not the arguments it was sent
      if (!throughAwaitedCalls && ts.isAwaitExpression(n) && ts.isCallExpression(skipOuter(n.expression))) {
        visit(skipOuter(n.expression).getChildAt(0));
        return;
      }
      if (ts.isCallExpression(n)) {
        const cell = sharedCell(n, this.checker);
        const t = cell?.op === "get" ? this.cellTarget(cell.cell) : undefined;
        if (t) out.push({ target: t, node: n, at: n.end });
      }
      if ((ts.isIdentifier(n) || ts.isPropertyAccessExpression(n)) && isMaximalAccess(n) && !isWritePosition(n)) {
        const t = this.target(n);
        if (t) out.push({ target: t, node: n, at: n.end });
        const local = this.localOf(n);
        if (local) {
          const history = this.locals.get(local) ?? [];
          const last = [...history].reverse().find((a) => a.pos <= n.getStart());
          if (last) out.push(...last.sources);
        }
        if (ts.isIdentifier(n)) return;
      }
      ts.forEachChild(n, visit);
    };
    visit(expr);
    return out;
  }

  collect(): void {
    forEachOwnNode(this.fn, (n) => {
      if (ts.isAwaitExpression(n)) this.awaits.push(n);
      else if (ts.isForOfStatement(n) && n.awaitModifier) this.awaits.push(n.expression);
      if (ts.isVariableDeclaration(n) && n.initializer) this.assign(n.name, n.initializer, n.end);
      if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment) {
        const local = this.localOf(n.left);
        if (local && n.operatorToken.kind === ts.SyntaxKind.EqualsToken) this.record(local, this.sourcesOf(n.right, false), n.end);
        const t = this.target(n.left);
        const op = n.operatorToken.kind;
        if (t && (op === ts.SyntaxKind.EqualsToken || COMPOUND.has(op)))
          this.writes.push({ node: n, target: t, value: n.right, compound: op !== ts.SyntaxKind.EqualsToken });
      }
      if (ts.isCallExpression(n)) {
        const cell = sharedCell(n, this.checker);
        const t = cell?.op === "set" ? this.cellTarget(cell.cell) : undefined;
        if (t) this.writes.push({ node: n, target: t, value: n.arguments[0], compound: false });
      }
    });
  }

  private record(local: ts.Symbol, sources: readonly Source[], pos: number): void {
    let list = this.locals.get(local);
    if (!list) this.locals.set(local, (list = []));
    list.push({ pos, sources });
  }

  private assign(name: ts.BindingName, init: ts.Expression, pos: number): void {
    if (ts.isIdentifier(name)) {
      const local = this.localOf(name);
      if (local) this.record(local, this.sourcesOf(init, false), pos);
      return;
    }
    // `const { a } = this.state`: `a` carries `this.state.a`
    const base = this.sourcesOf(init, false);
    for (const el of name.elements) {
      if (ts.isOmittedExpression(el) || !ts.isIdentifier(el.name)) continue;
      const local = this.localOf(el.name);
      if (!local) continue;
      const prop = ts.isObjectBindingPattern(name) ? (el.propertyName ?? el.name).getText() : undefined;
      this.record(local, prop ? base.map((s) => ({ ...s, target: { key: `${s.target.key}.${prop}`, name: `${s.target.name}.${prop}` } })) : base, pos);
    }
  }

  /** The await that happens after `from` and completes by `to`, if any. */
  private awaitBetween(from: number, to: number, within?: ts.Node): ts.Node | undefined {
    return this.awaits.find((a) => a.end > from && a.end <= to && (!within || (a.pos >= within.pos && a.end <= within.end)));
  }

  /** A fresh read of the target in a condition between the last await and the write: a compare-and-set. */
  private rechecked(w: Write): boolean {
    const last = [...this.awaits].reverse().find((a) => a.end <= w.node.getStart());
    if (!last) return false;
    let found = false;
    forEachOwnNode(this.fn, (n) => {
      if (found || n.pos < last.end || n.end > w.node.getStart()) return;
      if ((ts.isIdentifier(n) || ts.isPropertyAccessExpression(n)) && isMaximalAccess(n) && isCondition(n, last.end)) {
        const t = this.target(n);
        if (t && related(t, w.target)) found = true;
      }
    });
    return found;
  }

  /** The written value also reads the target after the last await (`buffer = items.concat(buffer)`): it merges the current value. */
  private merges(w: Write): boolean {
    if (!w.value || w.compound) return false;
    const last = [...this.awaits].reverse().find((a) => a.end <= w.node.end);
    const after = last ? last.end : -1;
    return this.sourcesOf(w.value).some(
      (s) => s.target.key === w.target.key && s.node.pos >= after && s.node.pos >= w.value!.pos && !this.awaitBetween(s.at - 1, w.node.end),
    );
  }

  /** Save, change, await, put back (`const prev = this.state; this.state = "busy"; … this.state = prev`): a restore, not an update. */
  private restores(w: Write, read: Source, wait: ts.Node): boolean {
    const v = w.value && skipOuter(w.value);
    if (!v || w.compound || !ts.isIdentifier(v) || !this.localOf(v)) return false;
    return this.writes.some((o) => o !== w && o.target.key === w.target.key && o.node.pos >= read.at && o.node.end <= wait.pos);
  }

  /** Each write made from a stale read: [write, the read, the await between]. */
  *stale(): Generator<[Write, Source, ts.Node]> {
    for (const w of this.writes) {
      const value = w.value;
      if (!value) continue;
      let hit: [Source, ts.Node] | undefined;
      if (w.compound) {
        const a = this.awaitBetween(w.node.getStart(), w.node.end, value);
        if (a) hit = [{ target: w.target, node: (w.node as ts.BinaryExpression).left, at: w.node.getStart() }, a];
      }
      if (!hit) {
        for (const s of this.sourcesOf(value)) {
          if (!related(s.target, w.target)) continue;
          const inValue = s.node.pos >= value.pos && s.node.end <= value.end;
          const a = this.awaitBetween(s.at - 1, w.node.end, inValue ? value : undefined);
          if (a) {
            hit = [s, a];
            break;
          }
        }
      }
      if (hit && !this.rechecked(w) && !this.merges(w) && !this.restores(w, hit[0], hit[1])) yield [w, hit[0], hit[1]];
    }
  }
}

function fixOf(w: Write, read: Source, wait: ts.Node): string {
  const name = w.target.name;
  const inline = read.node.pos >= (w.value?.pos ?? 0) && wait.pos >= (w.value?.pos ?? 0) && wait.end <= (w.value?.end ?? 0);
  if (w.compound || inline) {
    const awaited = ts.isAwaitExpression(wait) ? wait.expression.getText() : "…";
    return `Await first, then update in one step: \`const value = await ${awaited.length > 40 ? "…" : awaited};\` and then write \`${name}\` from its current value; or hold a lock across the read and the write.`;
  }
  return `Hold a lock across the read and the write (\`await lock.runExclusive(async () => { … })\`), or re-read \`${name}\` after the await and update it in one synchronous step, or keep it in a \`Shared\` and use \`shared.update(fn)\`.`;
}

export const readAwaitWrite: Rule = {
  meta: {
    id: "read-await-write",
    description: "shared state read before an await and written after it from the value read, with no lock held across",
    certainty: "potential",
    defaultSeverity: "error",
    scope: "program",
  },
  checkProgram(ctx) {
    const ids = new Ids();
    const held = new LockHeld(ctx.checker, new ReferenceIndex(ctx.sourceFiles, ctx.checker));
    const visit = (n: ts.Node): void => {
      if (isFunctionNode(n) && isAsyncFunction(n)) check(n);
      ts.forEachChild(n, visit);
    };
    const check = (fn: FunctionNode): void => {
      const fc = new FunctionCheck(fn, ctx.checker, ids);
      fc.collect();
      for (const [w, read, wait] of fc.stale()) {
        if (held.heldAcross(read.node.getStart(), w.node)) continue;
        const name = w.target.name;
        const how = w.compound
          ? `\`${skipOuter((w.node as ts.BinaryExpression).left).getText()} ${(w.node as ts.BinaryExpression).operatorToken.getText()} …\` reads \`${name}\` before an \`await\` and writes it after`
          : `\`${name}\` is written from its value read before an \`await\` (read at ${shortSite(read.node)}, await at ${shortSite(wait)})`;
        ctx.report({
          node: w.node,
          summary: `${how}: an update made by a concurrent call during the await is lost`,
          fix: fixOf(w, read, wait),
          subjects: [
            { kind: "code", name, role: "read", site: siteOf(read.node) },
            { kind: "code", name: wait.getText().slice(0, 60), role: "await: other calls run here", site: siteOf(wait) },
            { kind: "code", name, role: "written from the old value", site: siteOf(w.node) },
          ],
          steps: [
            { text: `\`${name}\` read`, site: siteOf(read.node) },
            { text: "await: other calls may write it meanwhile", site: siteOf(wait) },
            { text: `\`${name}\` written from the value read before the await`, site: siteOf(w.node) },
          ],
          data: { variable: name },
        });
      }
    };
    for (const sf of ctx.sourceFiles) visit(sf);
  },
};
