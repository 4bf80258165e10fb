/**
 * Small questions the rules ask of the TypeScript AST and type checker, shared so each rule
 * answers them the same way.
 */
import ts from "typescript";
import { dirname, join } from "node:path";

/** The expression without surrounding parentheses, `as`/`satisfies` casts and `!`. */
export function unwrap(e: ts.Expression): ts.Expression {
  let cur = e;
  for (;;) {
    if (
      ts.isParenthesizedExpression(cur) ||
      ts.isAsExpression(cur) ||
      ts.isNonNullExpression(cur) ||
      ts.isSatisfiesExpression(cur) ||
      ts.isTypeAssertionExpression(cur)
    ) {
      cur = cur.expression;
    } else return cur;
  }
}

/** True when `type` (or any member of a union) has a callable `then`: a promise or thenable. */
export function isThenable(checker: ts.TypeChecker, type: ts.Type): boolean {
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.Never)) return false;
  if (type.isUnion()) return type.types.some((t) => isThenable(checker, t));
  const then = type.getProperty("then");
  if (!then) return false;
  const decl = then.valueDeclaration ?? then.declarations?.[0];
  const thenType = decl ? checker.getTypeOfSymbolAtLocation(then, decl) : checker.getTypeOfSymbol(then);
  return checker.getNonNullableType(thenType).getCallSignatures().length > 0;
}

/** True when `type` is an array or tuple whose elements are promises. */
export function isPromiseArray(checker: ts.TypeChecker, type: ts.Type): boolean {
  if (type.isUnion()) return type.types.some((t) => isPromiseArray(checker, t));
  if (checker.isArrayType(type) || checker.isTupleType(type)) {
    const args = checker.getTypeArguments(type as ts.TypeReference);
    return args.length > 0 && args.some((a) => isThenable(checker, a));
  }
  return false;
}

/** The function-like node that contains `node` (not crossing into an outer one), or undefined at module level. */
export function enclosingFunction(node: ts.Node): ts.SignatureDeclaration | undefined {
  let cur = node.parent;
  while (cur) {
    if (ts.isFunctionLike(cur)) return cur;
    cur = cur.parent;
  }
  return undefined;
}

/** True for an `async` function, method or arrow. */
export function isAsyncFunction(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword) ?? false);
}

/** The name of what is called: `fetch` for `fetch(u)`, `get` for `http.get(u)`. */
export function calleeName(call: ts.CallExpression | ts.NewExpression): string | undefined {
  const e = unwrap(call.expression);
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return undefined;
}

/** Source text of a node, shortened for a message. */
export function shortText(node: ts.Node, max = 60): string {
  const text = node.getText().replace(/\s+/g, " ");
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/** The callee text shortened to its head: `Promise.all(…)`, `client.query(…)`. */
export function callText(call: ts.CallExpression | ts.NewExpression): string {
  const head = shortText(call.expression, 40);
  return `${ts.isNewExpression(call) ? "new " : ""}${head}(…)`;
}

/** Visits every node under `root`, not descending into nested functions when `stopAtFunctions`. */
export function walk(root: ts.Node, visit: (n: ts.Node) => void, stopAtFunctions = false): void {
  const go = (n: ts.Node): void => {
    visit(n);
    if (stopAtFunctions && n !== root && ts.isFunctionLike(n)) return;
    ts.forEachChild(n, go);
  };
  go(root);
}

const packageNames = new Map<string, string | undefined>();

/** The `name` of the nearest package.json above `file` (cached per directory). */
export function packageNameOf(file: string): string | undefined {
  let dir = dirname(file);
  const seen: string[] = [];
  let name: string | undefined;
  for (;;) {
    if (packageNames.has(dir)) {
      name = packageNames.get(dir);
      break;
    }
    seen.push(dir);
    const text = ts.sys.readFile(join(dir, "package.json"));
    if (text !== undefined) {
      try {
        const parsed: unknown = JSON.parse(text);
        name = parsed && typeof parsed === "object" && typeof (parsed as { name?: unknown }).name === "string" ? (parsed as { name: string }).name : undefined;
      } catch {
        name = undefined;
      }
      break;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const d of seen) packageNames.set(d, name);
  return name;
}

/** True when the declarations of `symbol` come from the package `pkg` (installed, or the package being checked). */
export function declaredIn(symbol: ts.Symbol | undefined, pkg: string): boolean {
  const decls = symbol?.declarations ?? [];
  return decls.some((d) => {
    const file = d.getSourceFile().fileName;
    return file.includes(`/node_modules/${pkg}/`) || file.includes(`/node_modules/@types/${pkg}/`) || packageNameOf(file) === pkg;
  });
}

/** True when the symbol is declared only in TypeScript's lib files or @types/node / undici-types (a platform global). */
export function isPlatformSymbol(program: ts.Program, symbol: ts.Symbol | undefined): boolean {
  const decls = symbol?.declarations ?? [];
  return (
    decls.length > 0 &&
    decls.every((d) => {
      const sf = d.getSourceFile();
      return program.isSourceFileDefaultLibrary(sf) || /\/node_modules\/(@types\/node|undici-types|typescript\/lib)\//.test(sf.fileName);
    })
  );
}

/** The symbol of a call's callee, through aliases. */
export function calleeSymbol(checker: ts.TypeChecker, call: ts.CallExpression | ts.NewExpression): ts.Symbol | undefined {
  const e = unwrap(call.expression);
  const at = ts.isPropertyAccessExpression(e) ? e.name : e;
  let s = checker.getSymbolAtLocation(at);
  if (s && s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
  return s;
}

/** True when the symbol is declared by @types/node in one of `modules` (`http`, `https`, …). */
export function isFromNodeModule(symbol: ts.Symbol | undefined, modules: readonly string[]): boolean {
  return (symbol?.declarations ?? []).some((d) => {
    const f = d.getSourceFile().fileName;
    return /\/@types\/node\//.test(f) && modules.some((m) => f.endsWith(`/${m}.d.ts`));
  });
}

/**
 * The first node of the function `fn` (not of a function nested in it) lying wholly in
 * [from, to) that `match` accepts: the walk the rules share to ask "does anything between these
 * two points await, return or throw?".
 */
export function firstInFunctionBetween(fn: ts.Node, from: number, to: number, match: (n: ts.Node) => boolean): ts.Node | undefined {
  let hit: ts.Node | undefined;
  const go = (n: ts.Node): void => {
    if (hit || n.end <= from || n.pos >= to) return;
    if (n !== fn && ts.isFunctionLike(n)) return;
    if (n.getStart() >= from && n.end <= to && match(n)) {
      hit = n;
      return;
    }
    ts.forEachChild(n, go);
  };
  go(fn);
  return hit;
}
