/**
 * How a promise-valued expression is used: dropped, handled, or the root of a chain. Shared by
 * floating-promise and unawaited-aggregate so that each dropped promise is reported once.
 */
import ts from "typescript";
import type { OptionsSchema } from "../rule.js";
import { declaredIn, isPlatformSymbol, isPromiseArray, isThenable, unwrap } from "./ts-util.js";

/** The aggregate methods of `Promise`: awaiting their result is the point of calling them. */
export const AGGREGATES: ReadonlySet<string> = new Set(["all", "allSettled", "race", "any"]);

/** A local declared with a name and an initialiser: `const p = start()`. */
export type NamedLocal = ts.VariableDeclaration & { name: ts.Identifier; initializer: ts.Expression };

/** A thenable type the caller keeps by construction, so dropping the value loses nothing. */
export interface KeptType {
  /** The type's name (`Task`). */
  readonly name: string;
  /** The package that declares it (`asyncdoctor`). */
  readonly package: string;
}

/** The options schema of the two promise rules: `{ keptTypes: [{ name, package }] }`. */
export const KEPT_TYPES_SCHEMA: OptionsSchema = {
  type: "object",
  properties: {
    keptTypes: {
      type: "array",
      description: "thenable types (by name and declaring package) whose owner keeps them, so dropping the value loses nothing",
      items: {
        type: "object",
        properties: { name: { type: "string" }, package: { type: "string" } },
        required: ["name", "package"],
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};

/** asyncdoctor's `Task`: spawned on a tracker or group that keeps it and reports its failure. */
export const DEFAULT_KEPT: readonly KeptType[] = [{ name: "Task", package: "asyncdoctor" }];

/** `Promise.all(…)` (or allSettled/race/any) on the global Promise; undefined otherwise. */
export function aggregateCall(program: ts.Program, checker: ts.TypeChecker, e: ts.Expression): ts.CallExpression | undefined {
  const u = unwrap(e);
  if (!ts.isCallExpression(u)) return undefined;
  const callee = unwrap(u.expression);
  if (!ts.isPropertyAccessExpression(callee) || !AGGREGATES.has(callee.name.text)) return undefined;
  const obj = unwrap(callee.expression);
  if (!ts.isIdentifier(obj) || obj.text !== "Promise") return undefined;
  return isPlatformSymbol(program, checker.getSymbolAtLocation(obj)) ? u : undefined;
}

/** The call at the root of a `.then/.catch/.finally` chain (`Promise.all(x)` for `Promise.all(x).then(f)`). */
export function chainRoot(e: ts.Expression): ts.Expression {
  let cur = unwrap(e);
  for (;;) {
    if (ts.isCallExpression(cur)) {
      const callee = unwrap(cur.expression);
      if (ts.isPropertyAccessExpression(callee) && ["then", "catch", "finally"].includes(callee.name.text)) {
        cur = unwrap(callee.expression);
        continue;
      }
    }
    return cur;
  }
}

function isKept(checker: ts.TypeChecker, type: ts.Type, kept: readonly KeptType[]): boolean {
  if (type.isUnion()) return type.types.every((t) => !isThenable(checker, t) || isKept(checker, t, kept));
  const sym = type.getSymbol() ?? type.aliasSymbol;
  return sym !== undefined && kept.some((k) => k.name === sym.getName() && declaredIn(sym, k.package));
}

/**
 * The parts of an expression statement that drop a promise: `p()` itself, both arms of `c ? p() : q()`,
 * the right of `a && p()`, each side of a comma. A rejection handled by `.catch(h)` or `.then(a, b)`,
 * an assignment, `void` and `await` drop nothing.
 */
export function droppedPromises(checker: ts.TypeChecker, expr: ts.Expression, kept: readonly KeptType[]): ts.Expression[] {
  const e = unwrap(expr);
  if (ts.isVoidExpression(e) || ts.isAwaitExpression(e)) return [];
  if (ts.isBinaryExpression(e)) {
    const op = e.operatorToken.kind;
    if (op >= ts.SyntaxKind.FirstAssignment && op <= ts.SyntaxKind.LastAssignment) return [];
    if (op === ts.SyntaxKind.CommaToken) return [...droppedPromises(checker, e.left, kept), ...droppedPromises(checker, e.right, kept)];
    if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken) {
      return droppedPromises(checker, e.right, kept);
    }
  }
  if (ts.isConditionalExpression(e)) return [...droppedPromises(checker, e.whenTrue, kept), ...droppedPromises(checker, e.whenFalse, kept)];
  if (ts.isCallExpression(e)) {
    const callee = unwrap(e.expression);
    if (ts.isPropertyAccessExpression(callee)) {
      const m = callee.name.text;
      if (m === "catch" && e.arguments.length >= 1) return [];
      if (m === "then" && e.arguments.length >= 2) return [];
      if (m === "finally") {
        const inner = droppedPromises(checker, callee.expression, kept);
        return inner.length > 0 ? [e] : [];
      }
    }
  }
  if (ts.isCallExpression(e) && keepsArrayItems(checker, e)) return [];
  if (ts.isCallExpression(e)) {
    const quick = fromCalleeSignatures(checker, e, kept);
    if (quick !== undefined) return quick ? [e] : [];
  }
  return dropsPromise(checker, checker.getTypeAtLocation(e), kept) ? [e] : [];
}

/**
 * Array methods whose result holds no promise the array did not already hold: `splice` hands
 * back the items it removed, `sort` / `reverse` / `fill` / `copyWithin` the array itself.
 * Dropping that result loses no promise that was not dropped (or kept) before.
 */
const IN_PLACE = new Set(["splice", "sort", "reverse", "fill", "copyWithin"]);

function keepsArrayItems(checker: ts.TypeChecker, call: ts.CallExpression): boolean {
  const callee = unwrap(call.expression);
  if (!ts.isPropertyAccessExpression(callee) || !IN_PLACE.has(callee.name.text)) return false;
  const recv = checker.getNonNullableType(checker.getTypeAtLocation(callee.expression));
  return checker.isArrayType(recv) || checker.isTupleType(recv);
}

const GENERIC = ts.TypeFlags.TypeParameter | ts.TypeFlags.Conditional | ts.TypeFlags.IndexedAccess | ts.TypeFlags.Index | ts.TypeFlags.Substitution;

/** The one test of "losing this value loses a promise": a thenable nobody keeps, or an array of promises. */
function dropsPromise(checker: ts.TypeChecker, t: ts.Type, kept: readonly KeptType[]): boolean {
  return (isThenable(checker, t) && !isKept(checker, t, kept)) || isPromiseArray(checker, t);
}

/** True when the call returns a promise (or an array of them); asks the checker as little as it can. */
export function callReturnsPromise(checker: ts.TypeChecker, call: ts.CallExpression | ts.NewExpression): boolean {
  if (ts.isCallExpression(call)) {
    const quick = fromCalleeSignatures(checker, call, []);
    if (quick !== undefined) return quick;
  }
  return dropsPromise(checker, checker.getTypeAtLocation(call), []);
}

/**
 * Whether a call returns a promise, read from the callee's declared signatures when they all
 * agree, which spares resolving the call (overloads, inference over its arguments): the bulk of
 * the checker's work on a large program. Undefined when only resolving the call can tell
 * (signatures that disagree, or a return type that is a type parameter).
 */
function fromCalleeSignatures(checker: ts.TypeChecker, call: ts.CallExpression, kept: readonly KeptType[]): boolean | undefined {
  const calleeType = checker.getTypeAtLocation(call.expression);
  if (calleeType.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return false;
  const sigs = calleeType.getCallSignatures();
  if (sigs.length === 0) return undefined;
  let answer: boolean | undefined;
  for (const sig of sigs) {
    const ret = checker.getReturnTypeOfSignature(sig);
    const parts = ret.isUnion() ? ret.types : [ret];
    // `T` or `U[]`: whether it is a promise (or an array of them) depends on the call
    const generic = (t: ts.Type) => (t.flags & GENERIC) !== 0;
    if (parts.some((p) => generic(p) || ((checker.isArrayType(p) || checker.isTupleType(p)) && checker.getTypeArguments(p as ts.TypeReference).some(generic))))
      return undefined;
    const drops = dropsPromise(checker, ret, kept);
    if (answer === undefined) answer = drops;
    else if (answer !== drops) return undefined;
  }
  return answer;
}

/** True when the identifier named `name` is read anywhere under `scope` other than at `decl`. */
export function isReferenced(scope: ts.Node, name: string, decl: ts.Identifier): boolean {
  let found = false;
  const go = (n: ts.Node): void => {
    if (found) return;
    if (ts.isIdentifier(n) && n !== decl && n.text === name) {
      const p = n.parent;
      const isPropName =
        (ts.isPropertyAccessExpression(p) && p.name === n) || (ts.isPropertyAssignment(p) && p.name === n) || (ts.isQualifiedName(p) && p.right === n);
      const isWrite = ts.isBinaryExpression(p) && p.left === n && p.operatorToken.kind === ts.SyntaxKind.EqualsToken;
      if (!isPropName && !isWrite) found = true;
    }
    ts.forEachChild(n, go);
  };
  go(scope);
  return found;
}

/** Options shared by the two promise rules. */
export function keptTypes(options: Readonly<Record<string, unknown>>): readonly KeptType[] {
  const extra = options.keptTypes;
  if (!Array.isArray(extra)) return DEFAULT_KEPT;
  const out: KeptType[] = [...DEFAULT_KEPT];
  for (const k of extra) {
    if (k && typeof k === "object" && typeof (k as KeptType).name === "string" && typeof (k as KeptType).package === "string") out.push(k as KeptType);
  }
  return out;
}

/** Each promise-typed local (`const p = start()`) that nothing ever reads: the promise is lost. */
export function unreadPromiseLocals(checker: ts.TypeChecker, sourceFile: ts.SourceFile, kept: readonly KeptType[]): NamedLocal[] {
  const out: NamedLocal[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isVariableStatement(n)) {
      const exported = n.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DeclareKeyword) ?? false;
      const flags = n.declarationList.flags;
      const using = (flags & ts.NodeFlags.Using) !== 0 || Number(flags & ts.NodeFlags.AwaitUsing) === Number(ts.NodeFlags.AwaitUsing);
      if (!exported && !using) {
        for (const d of n.declarationList.declarations) {
          if (!ts.isIdentifier(d.name) || !d.initializer) continue;
          const init = unwrap(d.initializer);
          if (!ts.isCallExpression(init) && !ts.isNewExpression(init)) continue;
          // the syntactic question first: most locals are read, and then no type is needed
          if (isReferenced(scopeOf(n), d.name.text, d.name)) continue;
          if (!dropsPromise(checker, checker.getTypeAtLocation(d.name), kept)) continue;
          out.push(d as NamedLocal);
        }
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sourceFile);
  return out;
}

function scopeOf(n: ts.Node): ts.Node {
  let cur = n.parent;
  while (cur && !ts.isFunctionLike(cur) && !ts.isSourceFile(cur)) cur = cur.parent;
  return cur ?? n.getSourceFile();
}

/** A dropped promise of a file, and the `Promise.all/…` call at its root when it is one. */
export interface DroppedPromise {
  readonly expr: ts.Expression;
  readonly aggregate: ts.CallExpression | undefined;
}

/** An unread promise local of a file, and the `Promise.all/…` call it holds when it is one. */
export interface UnreadPromiseLocal {
  readonly decl: NamedLocal;
  readonly aggregate: ts.CallExpression | undefined;
}

/** What floating-promise and unawaited-aggregate both read of one file. */
export interface LostPromises {
  readonly dropped: readonly DroppedPromise[];
  readonly unread: readonly UnreadPromiseLocal[];
}

// floating-promise and unawaited-aggregate split these findings between them: the scan (type
// checker work on every expression statement) is done once per file and set of kept types
const lostCache = new WeakMap<ts.SourceFile, Map<string, { program: ts.Program; lost: LostPromises }>>();

/**
 * Every promise a file drops (in an expression statement, or in a local never read), each with
 * its aggregate call when it is `Promise.all/allSettled/race/any`. Cached per file.
 */
export function lostPromises(program: ts.Program, checker: ts.TypeChecker, sourceFile: ts.SourceFile, kept: readonly KeptType[]): LostPromises {
  let byKept = lostCache.get(sourceFile);
  if (!byKept) {
    const fresh: NonNullable<ReturnType<typeof lostCache.get>> = new Map();
    lostCache.set(sourceFile, (byKept = fresh));
  }
  const key = JSON.stringify(kept);
  const hit = byKept.get(key);
  if (hit && hit.program === program) return hit.lost;
  const dropped: DroppedPromise[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isExpressionStatement(n)) {
      for (const expr of droppedPromises(checker, n.expression, kept)) dropped.push({ expr, aggregate: aggregateCall(program, checker, chainRoot(expr)) });
    }
    ts.forEachChild(n, visit);
  };
  visit(sourceFile);
  const unread = unreadPromiseLocals(checker, sourceFile, kept).map((decl) => ({
    decl,
    aggregate: aggregateCall(program, checker, chainRoot(decl.initializer)),
  }));
  const lost = { dropped, unread };
  byKept.set(key, { program, lost });
  return lost;
}
