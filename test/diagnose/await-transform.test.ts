// The marks the await-graph transform makes for the dropped-promise detector: where a value is
// discarded, and which callbacks' values a callee ignores.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { transformAwaits } from "../../src/diagnose/await-transform.js";

const compile = (source: string, format: "module" | "commonjs" = "module") => transformAwaits({ source, file: "/app/x.js", format });

/** The compiled code without its header and source map. */
function body(source: string, format: "module" | "commonjs" = "module"): string {
  const out = compile(source, format);
  assert.ok(out !== undefined);
  return out
    .replace(/^var \$ad\$f=__asyncdoctor\$\.file\([^;]*\);/, "")
    .replace(/\n\/\/# sourceMappingURL=.*\n$/, "")
    .trimEnd();
}

/** The drop sites table of the header: [line, column, code, kind]. */
function drops(source: string): [number, number, string, string][] {
  const out = compile(source)!;
  const m = /^var \$ad\$f=__asyncdoctor\$\.file\("[^"]*",([^;]*)\);/.exec(out);
  assert.ok(m, out);
  return (JSON.parse(`[${m[1]}]`) as unknown[])[2] as [number, number, string, string][];
}

describe("the transform's drop marks", () => {
  it("a call whose statement discards its value: $ad$.d in an async function's body, the runtime's d elsewhere", () => {
    assert.equal(
      body("async function f() { send(); }"),
      "async function f() {var $ad$=__asyncdoctor$.enter($ad$f,0);try{ $ad$.d(send(),0); }finally{$ad$.x()}}",
    );
    assert.equal(body("function f() { send(); }"), "function f() { __asyncdoctor$.d(send(),$ad$f,0); }");
    assert.equal(body("send();"), "__asyncdoctor$.d(send(),$ad$f,0);");
  });

  it("names each site's kind and callee: statement, void, chain, iterate, listener, timer", () => {
    const src = [
      "this.sender.send(x);",
      "void tele.track('e');",
      "main().then(done);",
      "items.forEach(async (i) => i);",
      "emitter.on('e', () => go());",
      "setTimeout(() => go(), 5);",
      "process.nextTick(() => go());",
      "_.forEach(obj, (v) => go(v));",
    ].join("\n");
    assert.deepEqual(
      drops(src).map(([line, , code, kind]) => [line, code, kind]),
      [
        [1, "this.sender.send()", "statement"],
        [2, "tele.track()", "void"],
        [3, "then()", "chain"],
        [4, "items.forEach()", "statement"],
        [4, "items.forEach()", "iterate"],
        [5, "emitter.on()", "statement"],
        [5, "emitter.on()", "listener"],
        [6, "setTimeout()", "statement"],
        [6, "setTimeout()", "timer"],
        [7, "process.nextTick()", "statement"],
        [7, "process.nextTick()", "timer"],
        [8, "_.forEach()", "statement"],
        [8, "_.forEach()", "iterate"],
      ],
    );
  });

  it("a discarded value in a condition, a sequence or optional chaining is marked; kept ones are not", () => {
    assert.equal(body("ok && send();"), "ok && __asyncdoctor$.d(send(),$ad$f,0);");
    assert.equal(body("ok ? a() : b();"), "ok ? __asyncdoctor$.d(a(),$ad$f,0) : __asyncdoctor$.d(b(),$ad$f,1);");
    assert.equal(body("a(), b();"), "__asyncdoctor$.d(a(),$ad$f,0), __asyncdoctor$.d(b(),$ad$f,1);");
    assert.equal(body("x?.send();"), "__asyncdoctor$.d(x?.send(),$ad$f,0);");
    assert.doesNotMatch(compile("const p = send(); list.push(p.value);") ?? "", /d\(send\(\)/, "a value kept in a variable is not discarded");
    assert.equal(compile("x = send();"), undefined, "nor one assigned: nothing to mark");
  });

  it("leaves super() alone and a listener passed by reference unwrapped (off(listener) must still find it)", () => {
    assert.doesNotMatch(body("class A extends B { constructor() { super(); go(); } }"), /d\(super\(\)/);
    const out = body("emitter.on('e', onEvent);");
    assert.doesNotMatch(out, /\.w\(/);
    assert.doesNotMatch(
      body("socket.on('data', function onData() { socket.off('data', onData); });"),
      /\.w\(/,
      "a named listener may remove itself by its name",
    );
    assert.match(body("socket.on('data', function () {});"), /\.w\(function/);
    assert.match(body("items.forEach(handle);"), /__asyncdoctor\$\.w\(handle,\$ad\$f,1,0\)/, "forEach keeps no reference to its callback: it may be wrapped");
    assert.doesNotMatch(body("items?.forEach(handle);"), /\.w\(/, "optional calls are left as they are");
  });

  it("adds no line, and compiles files with no async function (a dropped call is there too)", () => {
    const src = "function flush() {\n  sender.send(buffer);\n}\nflush();\n";
    const out = compile(src)!;
    assert.equal(out.split("\n").length, src.split("\n").length + 1, "only the source map comment is added");
    assert.match(out, /__asyncdoctor\$\.d\(sender\.send\(buffer\),\$ad\$f,0\)/);
  });

  it("leaves a source that does not parse, or that discards nothing, untouched", () => {
    assert.equal(compile("this is not javascript"), undefined);
    assert.equal(compile("const a = 1;\nexport default a;\n"), undefined);
  });
});
