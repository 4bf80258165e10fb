/**
 * The transform that feeds the await graph (core/await-graph.ts) from the user's code: every
 * async function gets an activation (`var $ad$ = __asyncdoctor$.enter(meta, i)`) and every
 * `await x` becomes `await $ad$.a(x, k)`, where `k` names the await's line in a table built
 * here, so a report can say where each activation waits without capturing a stack.
 *
 * It also marks the places where the code discards a value that may be a promise, for the
 * dropped-promise detector (diagnose/dropped-promises.ts): a call whose value its statement
 * throws away (`f();` becomes `$ad$.d(f(),k)`), `void f()`, and a callback whose value the
 * callee ignores (`forEach`, lodash's `_.forEach`, an EventEmitter listener, a timer), whose
 * receiver, callback and end are marked (`fe`, `w`, `ce`) so the runtime can check the callee
 * really is one that ignores it.
 *
 * Only insertions are made, and none adds a line: stack traces and source maps keep their
 * lines. A function whose parameters run code (defaults, computed keys) is left alone: its
 * activation's promise could not be told apart from promises those parameters create.
 */
import { parse } from "acorn";
import type { Node } from "acorn";
import type { DropKind } from "../core/await-graph.js";
import { SourceMap } from "node:module";
import { shiftSourceMap, withoutInlineMap } from "./source-map-shift.js";

/** What the transform needs to know about a file. */
export interface TransformInput {
  readonly source: string;
  /** The file's path, as reports should name it. */
  readonly file: string;
  /** "module" (ESM) or "commonjs". */
  readonly format: "module" | "commonjs";
}

type AnyNode = Node & Record<string, unknown>;

interface FnInfo {
  readonly node: AnyNode;
  readonly index: number;
  readonly instrumented: boolean;
}

const ACT = "$ad$";
const SKIP: FnInfo = { node: undefined as unknown as AnyNode, index: -1, instrumented: false };
const META = "$ad$f";
const MOD = "$ad$m";
const RT = "__asyncdoctor$";

/** Methods whose callback's return value is ignored, and at which argument the callback is. */
const CALLBACK_DROPPERS: Readonly<Record<string, readonly [DropKind, readonly number[], boolean]>> = {
  // [kind, argument indexes that may be the callback, only an inline function literal]
  // Array/Map/Set forEach take it first; lodash/underscore's _.forEach(collection, fn) second
  forEach: ["iterate", [0, 1], false],
  forEachRight: ["iterate", [1], false],
  each: ["iterate", [1], false],
  eachRight: ["iterate", [1], false],
  forOwn: ["iterate", [1], false],
  forOwnRight: ["iterate", [1], false],
  forIn: ["iterate", [1], false],
  forInRight: ["iterate", [1], false],
  // a listener passed by reference is left alone: off(listener) must still find it
  on: ["listener", [1], true],
  once: ["listener", [1], true],
  addListener: ["listener", [1], true],
  prependListener: ["listener", [1], true],
  prependOnceListener: ["listener", [1], true],
  addEventListener: ["listener", [1], true],
  nextTick: ["timer", [0], false],
};
const TIMERS = new Set(["setTimeout", "setInterval", "setImmediate", "queueMicrotask"]);

/**
 * The source with the await graph's calls inserted, or undefined when there is nothing to do
 * (no async function, no await) or the source does not parse.
 *
 * @example
 * ```ts
 * const out = transformAwaits({ source: "async function f() { await g(); }", file: "/app/f.js", format: "module" });
 * // "var $ad$f=__asyncdoctor$.file(…);async function f() {var $ad$=__asyncdoctor$.enter($ad$f,0); await $ad$.a(g(),0); }"
 * ```
 */
export function transformAwaits(input: TransformInput): string | undefined {
  const { source, file, format } = input;
  let program: AnyNode;
  try {
    program = parse(source, {
      ecmaVersion: "latest",
      sourceType: format === "module" ? "module" : "script",
      allowHashBang: true,
      allowReturnOutsideFunction: format === "commonjs",
      allowAwaitOutsideFunction: format === "module",
      locations: true,
      // a parenthesized arrow body (`async () => ({ id })`) is wrapped with its parentheses
      preserveParens: true,
    }) as unknown as AnyNode;
  } catch {
    return undefined;
  }
  const mapper = sourceMapOf(source);
  const position = (node: AnyNode): [number, number] => {
    const loc = node.loc as { start: { line: number; column: number } };
    if (mapper !== undefined) {
      const e = mapper.findEntry(loc.start.line - 1, loc.start.column) as { originalLine?: number; originalColumn?: number };
      if (typeof e.originalLine === "number" && typeof e.originalColumn === "number") return [e.originalLine + 1, e.originalColumn + 1];
    }
    return [loc.start.line, loc.start.column + 1];
  };

  const fns: [string, number, number][] = [];
  const awaits: [number, number][] = [];
  const drops: [number, number, string, DropKind, number][] = [];
  // [offset, text, closes]: a closer ends something opened at an earlier offset
  const edits: [number, string, boolean?][] = [];
  let topLevelAwait = false;
  const moduleResumes: number[] = [];

  // how a report names the callee: "this.sender.send", "emitter.on", else just the method's name
  // (the source here may be a compiler's output, reprinted: only names are kept from it)
  const dotted = (n: AnyNode): string | undefined => {
    if (n.type === "Identifier") return String(n.name);
    if (n.type === "ThisExpression") return "this";
    if (n.type === "MemberExpression" && !n.computed && (n.property as AnyNode).type === "Identifier") {
      const o = dotted(n.object as AnyNode);
      return o === undefined ? undefined : `${o}.${String((n.property as AnyNode).name)}`;
    }
    return undefined;
  };
  const codeOf = (n: AnyNode): string => {
    const d = dotted(n);
    if (d !== undefined && d.length <= 60) return d;
    if (n.type === "MemberExpression" && !n.computed && (n.property as AnyNode).type === "Identifier") return String((n.property as AnyNode).name);
    const inner = n.type === "ParenthesizedExpression" ? (n.expression as AnyNode) : n;
    return inner.type === "FunctionExpression" || inner.type === "ArrowFunctionExpression" ? "a function expression" : "a call";
  };
  // the last field is 1 at the module's top level (a script's `main();`), else 0
  const dropSite = (at: AnyNode, code: string, kind: DropKind, fn: FnInfo | undefined): number => {
    const [line, column] = position(at);
    drops.push([line, column, code, kind, fn === undefined ? 1 : 0]);
    return drops.length - 1;
  };
  // a call whose value is thrown away: $ad$.d(call, k) in an async function's own body, else the runtime's d
  const markCall = (whole: AnyNode, call: AnyNode, fn: FnInfo | undefined, kind: DropKind): void => {
    const callee = call.callee as AnyNode;
    if (callee.type === "Super") return;
    let k = kind;
    if (kind === "statement" && callee.type === "MemberExpression" && !callee.computed) {
      const name = (callee.property as AnyNode).name;
      if (name === "then" || name === "catch" || name === "finally") k = "chain";
    }
    const at = dropSite(whole, `${codeOf(callee)}()`, k, fn);
    if (fn !== undefined && fn.instrumented) {
      edits.push([whole.start, `${ACT}.d(`]);
      edits.push([whole.end, `,${at})`, true]);
    } else {
      edits.push([whole.start, `${RT}.d(`]);
      edits.push([whole.end, `,${META},${at})`, true]);
    }
  };
  const discard = (e: AnyNode, fn: FnInfo | undefined, kind: DropKind): void => {
    switch (e.type) {
      case "ParenthesizedExpression":
        return discard(e.expression as AnyNode, fn, kind);
      case "UnaryExpression":
        if (e.operator === "void") discard(e.argument as AnyNode, fn, "void");
        return;
      case "LogicalExpression":
        return discard(e.right as AnyNode, fn, kind);
      case "ConditionalExpression":
        discard(e.consequent as AnyNode, fn, kind);
        return discard(e.alternate as AnyNode, fn, kind);
      case "SequenceExpression":
        for (const x of e.expressions as AnyNode[]) discard(x, fn, kind);
        return;
      case "ChainExpression":
        if ((e.expression as AnyNode).type === "CallExpression") markCall(e, e.expression as AnyNode, fn, kind);
        return;
      case "CallExpression":
        return markCall(e, e, fn, kind);
      default:
        return;
    }
  };
  // forEach(cb), emitter.on(evt, cb), setTimeout(cb): the callee ignores what cb returns
  const markCallbackDropper = (call: AnyNode, fn: FnInfo | undefined): void => {
    if (call.optional === true) return;
    const callee = call.callee as AnyNode;
    const args = call.arguments as AnyNode[];
    let spec: readonly [DropKind, readonly number[], boolean] | undefined;
    let target: AnyNode;
    let at: AnyNode;
    if (callee.type === "MemberExpression" && !callee.computed && callee.optional !== true && (callee.object as AnyNode).type !== "Super") {
      const name = (callee.property as AnyNode).name as string;
      spec = Object.prototype.hasOwnProperty.call(CALLBACK_DROPPERS, name) ? CALLBACK_DROPPERS[name] : undefined;
      target = callee.object as AnyNode;
      at = callee.property as AnyNode;
    } else if (callee.type === "Identifier" && TIMERS.has(callee.name as string)) {
      spec = ["timer", [0], false];
      target = callee;
      at = call;
    } else return;
    if (spec === undefined) return;
    const [kind, indexes, literalOnly] = spec;
    const cbs = indexes.filter((i) => {
      const a = args[i];
      if (a === undefined || a.type === "SpreadElement") return false;
      const inner = a.type === "ParenthesizedExpression" ? (a.expression as AnyNode) : a;
      // a named function expression may remove itself (`socket.off("data", onData)` inside onData): not wrapped
      return !literalOnly || (inner.type === "FunctionExpression" && !inner.id) || inner.type === "ArrowFunctionExpression";
    });
    if (cbs.length === 0) return;
    const k = dropSite(at, `${codeOf(callee)}()`, kind, fn);
    if (kind === "iterate") {
      edits.push([call.start, `${RT}.ce(`]);
      edits.push([call.end, `,${META},${k})`, true]);
    }
    edits.push([target.start, `${RT}.fe(`]);
    edits.push([target.end, `,${META},${k})`, true]);
    for (const i of cbs) {
      const a = args[i]!;
      edits.push([a.start, `${RT}.w(`]);
      edits.push([a.end, `,${META},${k},${i})`, true]);
    }
  };

  // the header goes first: pushed before every other edit, it stays outside one made at the same
  // offset (a file that starts with `main();`); its text is known once the file has been visited
  const headerEdit: [number, string] = [afterDirectives(program, source), ""];
  edits.push(headerEdit);

  const visit = (node: AnyNode, fn: FnInfo | undefined, nameHint: string): void => {
    const type = node.type;
    if (type === "ExpressionStatement") discard(node.expression as AnyNode, fn, "statement");
    else if (type === "CallExpression") markCallbackDropper(node, fn);
    if (type === "FunctionDeclaration" || type === "FunctionExpression" || type === "ArrowFunctionExpression") {
      const own = node as AnyNode & {
        async: boolean;
        generator: boolean;
        id?: { name: string } | null;
        params: AnyNode[];
        body: AnyNode;
        expression?: boolean;
      };
      let inner: FnInfo | undefined;
      if (own.async && !own.generator) {
        const ok = own.params.every(simpleParam);
        const index = fns.length;
        const [line, column] = position(own);
        fns.push([own.id?.name ?? nameHint, line, column]);
        inner = { node: own, index, instrumented: ok };
        if (ok) {
          const enter = `var ${ACT}=__asyncdoctor$.enter(${META},${index});`;
          if (own.body.type === "BlockStatement") {
            // try/finally: the activation knows when its call ends, even by a throw, so the
            // current activation is its caller's again (names and Shared's reads rely on it)
            const at = afterDirectives(own.body);
            if (at === own.body.end - 1)
              edits.push([at, `${enter}${ACT}.x();`]); // an empty body
            else {
              edits.push([at, `${enter}try{`]);
              edits.push([own.body.end - 1, `}finally{${ACT}.x()}`, true]);
            }
          } else {
            // the body's value is what the call's promise adopts: recorded like an await
            const k = awaits.length;
            awaits.push(position(own.body));
            edits.push([own.body.start, `{${enter}try{return ${ACT}.a((`]);
            edits.push([own.body.end, `),${k});}finally{${ACT}.x()}}`, true]);
          }
        }
      } else {
        // a generator or a plain function: an await directly inside belongs to no activation of ours
        inner = SKIP;
      }
      for (const p of own.params) visit(p, inner, "");
      visit(own.body, inner, "");
      return;
    }
    if ((type === "CatchClause" || type === "TryStatement") && (fn === undefined ? format === "module" : fn.instrumented)) {
      // a rejected await resumes the function here: it is the current activation again
      const block = (type === "CatchClause" ? node.body : node.finalizer) as AnyNode | null;
      if (block) {
        if (fn !== undefined) edits.push([block.start + 1, `${ACT}.r();`]);
        else moduleResumes.push(block.start + 1); // only if the module awaits at its top level
      }
    }
    if (type === "ReturnStatement" && fn !== undefined && fn.instrumented && node.argument) {
      // `return p` in an async function: its promise adopts p, so it waits for p as an await would
      const arg = node.argument as AnyNode;
      const k = awaits.length;
      awaits.push(position(node));
      edits.push([arg.start, ` ${ACT}.a(`]);
      edits.push([arg.end, `,${k})`, true]);
      visit(arg, fn, "");
      return;
    }
    if (type === "AwaitExpression") {
      const arg = node.argument as AnyNode;
      const target = fn === undefined ? (format === "module" ? MOD : undefined) : fn.instrumented ? ACT : undefined;
      if (target !== undefined && fn === undefined) topLevelAwait = true;
      if (target !== undefined) {
        const k = awaits.length;
        awaits.push(position(node));
        // r() when it resumes with a value; a rejection resumes it in a catch or finally block
        edits.push([node.start, `${target}.r(`]);
        edits.push([arg.start, ` ${target}.a(`]);
        edits.push([node.end, `)`, true]);
        edits.push([arg.end, `,${k})`, true]);
      }
      visit(arg, fn, "");
      return;
    }
    for (const key of Object.keys(node)) {
      if (key === "loc" || key === "start" || key === "end" || key === "type") continue;
      const v = node[key];
      const hint = childNameHint(node, key);
      if (Array.isArray(v)) {
        for (const c of v) if (isNode(c)) visit(c, fn, hint);
      } else if (isNode(v)) visit(v, fn, hint);
    }
  };
  visit(program, undefined, "");
  if (fns.length === 0 && awaits.length === 0 && drops.length === 0) return undefined;

  if (topLevelAwait) {
    for (const at of moduleResumes) edits.push([at, `${MOD}.r();`]);
    // the module's code ends here: nothing after it runs as the module
    edits.push([withoutInlineMap(source).trimEnd().length, `;${MOD}.x();`, true]);
  }
  const header =
    `var ${META}=__asyncdoctor$.file(${JSON.stringify(file)},${JSON.stringify(fns)},${JSON.stringify(awaits)},${JSON.stringify(drops)});` +
    (topLevelAwait ? `var ${MOD}=__asyncdoctor$.module(${META});` : "");
  headerEdit[1] = header;
  // Applied from the end, so earlier offsets stay valid. Text inserted at an offset goes before
  // what was inserted there already, so at one offset: openers first (the innermost, pushed
  // last, first), then closers (the innermost, pushed last, applied last: it ends up first).
  const order = edits
    .map((e, i) => [e[0], e[2] === true ? 1 : 0, e[2] === true ? i : -i, e[1]] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2])
    .map((e) => [e[0], 0, e[3]] as const);
  // the inline map (tsx's, or one made here) is replaced by one that accounts for the insertions
  const body = withoutInlineMap(source);
  let out = body;
  for (const [at, , text] of order) out = out.slice(0, at) + text + out.slice(at);
  const { comment } = shiftSourceMap(
    source,
    file,
    order.map(([at, , text]) => [at, text.length] as const),
  );
  return `${out}${out.endsWith("\n") ? "" : "\n"}${comment}\n`;
}

function isNode(v: unknown): v is AnyNode {
  return typeof v === "object" && v !== null && typeof (v as { type?: unknown }).type === "string";
}

/** The name a function expression gets from where it stands (`const f = async () => …`). */
function childNameHint(parent: AnyNode, key: string): string {
  const named = (n: unknown): string => {
    if (!isNode(n)) return "";
    if (n.type === "Identifier") return String(n.name);
    if (n.type === "PrivateIdentifier") return `#${String(n.name)}`;
    if (n.type === "Literal") return String(n.value);
    if (n.type === "MemberExpression") return named(n.property);
    return "";
  };
  if (parent.type === "VariableDeclarator" && key === "init") return named(parent.id);
  if ((parent.type === "Property" || parent.type === "MethodDefinition" || parent.type === "PropertyDefinition") && key === "value") return named(parent.key);
  if (parent.type === "AssignmentExpression" && key === "right") return named(parent.left);
  // esbuild's keepNames (tsx) wraps named function expressions: __name(async () => …, "outer")
  if (parent.type === "CallExpression" && key === "arguments") {
    const callee = parent.callee as AnyNode;
    const args = parent.arguments as AnyNode[];
    if (callee.type === "Identifier" && callee.name === "__name" && args[1]?.type === "Literal") return String(args[1].value);
  }
  return "";
}

/** A parameter that runs no code when bound: no default value, no computed key, anywhere in it. */
function simpleParam(p: AnyNode): boolean {
  switch (p.type) {
    case "Identifier":
      return true;
    case "RestElement":
      return simpleParam(p.argument as AnyNode);
    case "ArrayPattern":
      return (p.elements as (AnyNode | null)[]).every((e) => e === null || simpleParam(e));
    case "ObjectPattern":
      return (p.properties as AnyNode[]).every((prop) =>
        prop.type === "RestElement" ? simpleParam(prop) : !prop.computed && simpleParam(prop.value as AnyNode),
      );
    default:
      return false;
  }
}

/** Where code may be inserted in a body without breaking its directive prologue ("use strict"). */
function afterDirectives(body: AnyNode, source?: string): number {
  const stmts = body.body as AnyNode[];
  let at = body.type === "BlockStatement" ? body.start + 1 : 0;
  if (at === 0 && source !== undefined && source.startsWith("#!")) {
    const nl = source.indexOf("\n");
    at = nl === -1 ? source.length : nl + 1;
  }
  for (const s of stmts) {
    if (s.type === "ExpressionStatement" && typeof s.directive === "string") at = s.end;
    else break;
  }
  return at;
}

/** The inline source map a compiler (tsx) left at the end of the source, if any. */
function sourceMapOf(source: string): SourceMap | undefined {
  const m = /\/\/# sourceMappingURL=data:application\/json;(?:charset=[^;,]+;)?base64,([A-Za-z0-9+/=]+)\s*$/.exec(source.slice(-200_000));
  if (!m?.[1]) return undefined;
  try {
    return new SourceMap(JSON.parse(Buffer.from(m[1], "base64").toString("utf8")) as ConstructorParameters<typeof SourceMap>[0]);
  } catch {
    return undefined;
  }
}

/** Files the transform compiles: the program's own, not dependencies, not asyncdoctor, not Node's. */
export function isUserFile(file: string, ownRoot: string): boolean {
  if (!/\.(?:[cm]?[jt]sx?)$/.test(file)) return false;
  if (file.includes("/node_modules/") || file.includes("\\node_modules\\")) return false;
  // the library itself is not compiled (its own operations register their nodes); its demos are
  return !(
    file.startsWith(`${ownRoot}src/`) ||
    file.startsWith(`${ownRoot}dist/esm/src/`) ||
    file.startsWith(`${ownRoot}dist/cjs/src/`) ||
    file.startsWith(`${ownRoot}bin/`)
  );
}
