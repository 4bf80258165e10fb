/**
 * interval-in-constructor: a ref'd `setInterval` started when an object is constructed and
 * cleared only by a method (`close()`, `stop()`) the program has to remember to call. Until it
 * does, the timer keeps the event loop alive: a test run or a CLI that forgets it never exits,
 * and every instance made on an error path keeps ticking.
 */
import ts from "typescript";
import type { Rule } from "../rule.js";
import { isPlatformSymbol, unwrap } from "../analysis/ts-util.js";

/** True for `setInterval(…)` of the platform (global, or node:timers). */
function isSetInterval(program: ts.Program, checker: ts.TypeChecker, call: ts.CallExpression): boolean {
  const callee = unwrap(call.expression);
  const name = ts.isIdentifier(callee) ? callee : ts.isPropertyAccessExpression(callee) ? callee.name : undefined;
  if (!name || name.text !== "setInterval") return false;
  let sym = checker.getSymbolAtLocation(name);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  return isPlatformSymbol(program, sym);
}

/** `this.x` → "x". */
function thisField(e: ts.Expression): string | undefined {
  const u = unwrap(e);
  return ts.isPropertyAccessExpression(u) && u.expression.kind === ts.SyntaxKind.ThisKeyword ? u.name.text : undefined;
}

/** What in `cls` is done to the timer held in field `field`: unref'd, cleared (and in which methods). */
function fieldUses(cls: ts.ClassLikeDeclaration, field: string): { unref: boolean; clearedIn: string[] } {
  let unref = false;
  const clearedIn: string[] = [];
  const go = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const callee = unwrap(n.expression);
      if (ts.isPropertyAccessExpression(callee) && callee.name.text === "unref" && thisField(callee.expression) === field) unref = true;
      const name = ts.isIdentifier(callee) ? callee.text : undefined;
      const arg = n.arguments[0];
      if ((name === "clearInterval" || name === "clearTimeout") && arg && thisField(arg) === field) {
        const method = ts.findAncestor(
          n,
          (a) => ts.isMethodDeclaration(a) || ts.isConstructorDeclaration(a) || ts.isPropertyDeclaration(a) || ts.isGetAccessor(a),
        );
        clearedIn.push(method && "name" in method && method.name ? method.name.getText() : "constructor");
      }
    }
    ts.forEachChild(n, go);
  };
  go(cls);
  return { unref, clearedIn };
}

/** True when the class can be closed by `using` / `await using`: the language then calls the close. */
function isDisposable(checker: ts.TypeChecker, cls: ts.ClassLikeDeclaration): boolean {
  const own = cls.members.some(
    (m) => m.name !== undefined && ts.isComputedPropertyName(m.name) && /^Symbol\.(asyncDispose|dispose)$/.test(m.name.expression.getText()),
  );
  if (own) return true;
  // inherited from a base class
  const sym = cls.name ? checker.getSymbolAtLocation(cls.name) : undefined;
  if (!sym) return false;
  return checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym)).some((p) => /^__@(asyncDispose|dispose)(@\d+)?$/.test(p.getName()));
}

export const intervalInConstructor: Rule = {
  meta: {
    id: "interval-in-constructor",
    description: "a ref'd setInterval started in a constructor and cleared only by a close() the program may never call",
    certainty: "potential",
    defaultSeverity: "warning",
    scope: "file",
  },
  checkFile(ctx) {
    const { program, checker, sourceFile } = ctx;
    if (!sourceFile.text.includes("setInterval")) return;
    const visit = (n: ts.Node): void => {
      if (ts.isConstructorDeclaration(n) && n.body && ts.isClassLike(n.parent)) checkConstructor(n.parent, n.body);
      ts.forEachChild(n, visit);
    };
    const checkConstructor = (cls: ts.ClassLikeDeclaration, body: ts.Block): void => {
      const calls: ts.CallExpression[] = [];
      const look = (n: ts.Node): void => {
        // a timer started in a callback (on an event, after a connect) is not started by construction
        if (ts.isFunctionLike(n)) return;
        if (ts.isCallExpression(n)) calls.push(n);
        ts.forEachChild(n, look);
      };
      body.statements.forEach(look);
      for (const call of calls) {
        if (!isSetInterval(program, checker, call)) continue;
        // a browser's setInterval returns a number: nothing to unref, and no process to keep alive
        if (!checker.getTypeAtLocation(call).getProperty("unref")) continue;
        let p: ts.Node = call.parent;
        while (ts.isParenthesizedExpression(p) || ts.isAsExpression(p) || ts.isNonNullExpression(p)) p = p.parent;
        if (ts.isPropertyAccessExpression(p) && p.name.text === "unref") continue;
        const className = cls.name?.text ?? "this class";
        if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
          const field = thisField(p.left);
          if (field === undefined) continue; // a local or another object's field: handed on, not followed
          const uses = fieldUses(cls, field);
          if (uses.unref || isDisposable(checker, cls)) continue;
          const closers = [...new Set(uses.clearedIn.filter((m) => m !== "constructor"))];
          ctx.report({
            node: call,
            summary:
              closers.length > 0
                ? `\`${className}\` starts a ref'd interval in its constructor (\`this.${field}\`) that only \`${closers.join("` or `")}()\` clears: every instance keeps the process alive until that is called, and one the program forgets (a failed setup, a test) keeps it running for good`
                : `\`${className}\` starts a ref'd interval in its constructor (\`this.${field}\`) that nothing clears: every instance keeps the process alive for good`,
            fix: `call \`.unref()\` on the timer if it is housekeeping the process need not wait for; or start it in an explicit \`start()\`, and make the class disposable (\`[Symbol.asyncDispose]\`) so \`await using\` clears it on every path`,
            data: { field, clearedIn: closers },
          });
          continue;
        }
        if (ts.isExpressionStatement(p)) {
          ctx.report({
            node: call,
            summary: `\`${className}\` starts a ref'd interval in its constructor and keeps no handle to it: nothing can clear it, and every instance keeps the process alive for good`,
            fix: "keep the handle in a field and clear it in `close()` / `[Symbol.asyncDispose]`, or call `.unref()` on it if the process need not wait for it",
          });
        }
      }
    };
    visit(sourceFile);
  },
};
