// The package as a user gets it: `npm pack`, then installed into a fresh project from the
// tarball alone, offline. It must load from ESM and CommonJS with every entry, bring in neither
// TypeScript, tsx nor esbuild, and name real files in its stacks.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..", "..");
const require = createRequire(import.meta.url);
// npm's own variables from an enclosing `npm test` would point it at this repository
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));
const entries = ["asyncdoctor", "asyncdoctor/hooks", "asyncdoctor/testing", "asyncdoctor/compat/async-mutex", "asyncdoctor/compat/p-limit"];

function npm(args: string[], cwd: string): string {
  return execFileSync("npm", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The packed file's name, from `npm pack --json`. */
function pack(what: string, dest: string): string {
  const out = JSON.parse(npm(["pack", what, "--ignore-scripts", "--json", "--pack-destination", dest], root)) as Array<{ filename: string }>;
  return join(dest, out[0]!.filename);
}

/** Every package directory under node_modules, scoped ones included. */
function installedPackages(dir: string): string[] {
  const nm = join(dir, "node_modules");
  if (!existsSync(nm)) return [];
  const out: string[] = [];
  for (const name of readdirSync(nm)) {
    if (name.startsWith(".")) continue;
    const names = name.startsWith("@") ? readdirSync(join(nm, name)).map((n) => `${name}/${n}`) : [name];
    for (const n of names) out.push(n, ...installedPackages(join(nm, n)));
  }
  return out;
}

describe("the packed package, installed into a fresh project", () => {
  let dir: string;
  let app: string;
  const run = (args: string[], input?: string) => spawnSync(process.execPath, args, { cwd: app, env: { ...env, NO_COLOR: "1" }, encoding: "utf8", input });
  const cli = (...args: string[]) => run([join(app, "node_modules", "asyncdoctor", "bin", "asyncdoctor.js"), ...args]);

  before(() => {
    assert.ok(existsSync(join(root, "dist", "esm", "src", "index.js")), "dist/ is built (npm test builds it first; else run `npm run build`)");
    dir = mkdtempSync(join(tmpdir(), "asyncdoctor-tarball-"));
    const own = pack(".", dir);
    // the runtime dependencies, packed from this checkout's install: no registry needed (a
    // lockfile install caches their tarballs, not the metadata an offline `npm install` asks for)
    const commander = pack(dirname(require.resolve("commander")), dir);
    const acorn = pack(dirname(require.resolve("acorn/package.json")), dir);
    app = join(dir, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }));
    npm(["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", own, commander, acorn], app);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("installs asyncdoctor, commander and acorn only: neither TypeScript, tsx nor esbuild", () => {
    const installed = installedPackages(app);
    // acorn (no dependencies of its own) parses the program's modules for debug mode's await graph
    assert.deepEqual(installed.sort(), ["acorn", "asyncdoctor", "commander"]);
    for (const heavy of ["typescript", "tsx", "esbuild"]) assert.ok(!installed.some((p) => p === heavy || p.startsWith(`@${heavy}/`)), heavy);
  });

  it("ships the built code, the sources its source maps name, the docs and the licence", () => {
    const pkg = join(app, "node_modules", "asyncdoctor");
    for (const f of [
      "LICENSE",
      "README.md",
      "dist/esm/src/index.js",
      "dist/cjs/src/index.js",
      "dist/esm/src/index.d.ts",
      "src/index.ts",
      "docs/rules/floating-promise.md",
    ]) {
      assert.ok(existsSync(join(pkg, f)), f);
    }
  });

  it("loads every entry from ESM", () => {
    const script = `for (const e of ${JSON.stringify(entries)}) { const m = await import(e); if (Object.keys(m).length === 0) throw new Error(e + " exports nothing"); }
      const a = await import("asyncdoctor"); console.log(typeof a.Mutex, typeof a.configure, "report" in a, typeof (await import("asyncdoctor/hooks")).report);`;
    const r = run(["--input-type=module", "-e", script]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout.trim(), "function function false function");
  });

  it("loads every entry from CommonJS", () => {
    const script = `for (const e of ${JSON.stringify(entries)}) { if (Object.keys(require(e)).length === 0) throw new Error(e + " exports nothing"); }
      const a = require("asyncdoctor"); console.log(typeof a.TaskTracker, typeof a.snapshot().locks.length);`;
    const r = run(["-e", script]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout.trim(), "function number");
  });

  it("debug mode loads through --import asyncdoctor/register", () => {
    const r = run([
      "--import",
      "asyncdoctor/register",
      "--input-type=module",
      "-e",
      `const { getConfig } = await import("asyncdoctor"); console.log(getConfig().mode);`,
    ]);
    assert.equal(r.stdout.trim(), "debug", r.stderr);
  });

  it("check says how to install TypeScript; run on a .ts file says how to install tsx; run on JavaScript needs neither", () => {
    const check = cli("check");
    assert.equal(check.status, 2);
    assert.match(
      check.stderr,
      /asyncdoctor check \(the static checker\) needs TypeScript, which is not installed\. Install it next to asyncdoctor: npm install --save-dev typescript/,
    );
    writeFileSync(join(app, "main.ts"), "const n: number = 1;\nconsole.log(n);\n");
    const ts = cli("run", "main.ts");
    assert.equal(ts.status, 2);
    assert.match(ts.stderr, /needs tsx to run a TypeScript file, which is not installed\. Install it next to asyncdoctor: npm install --save-dev tsx/);
    writeFileSync(join(app, "main.mjs"), "console.log('plain javascript');\n");
    const js = cli("run", "main.mjs");
    assert.equal(js.status, 0, js.stderr);
    assert.match(js.stdout, /plain javascript/);
  });

  it("stacks through the package name its TypeScript sources, and those files exist", () => {
    const script = `import { Mutex } from "asyncdoctor";
      const lease = await new Mutex({ name: "m" }).acquire();
      lease.release();
      try { lease.release(); } catch (e) { console.log(e.stack); }`;
    const r = run(["--enable-source-maps", "--input-type=module", "-e", script]);
    const files = [...r.stdout.matchAll(/\((\/[^():]+\/node_modules\/asyncdoctor\/[^():]+):\d+:\d+\)/g)].map((m) => m[1]!);
    assert.ok(files.length > 0, `frames in the package: ${r.stdout}${r.stderr}`);
    for (const f of files) {
      assert.match(f, /\/node_modules\/asyncdoctor\/src\/.*\.ts$/);
      assert.ok(existsSync(f), `${f} exists`);
    }
  });

  it("its declarations compile in a strict consumer (skipLibCheck off), from ESM and CommonJS", () => {
    writeFileSync(
      join(app, "consumer.mts"),
      `import { Mutex, snapshot, type Diagnosis } from "asyncdoctor";\nimport { addCollector } from "asyncdoctor/hooks";\nimport { leakCheck } from "asyncdoctor/testing";\nimport pLimit from "asyncdoctor/compat/p-limit";\nconst n: number = snapshot().locks.length;\naddCollector((d: Diagnosis) => console.log(d.summary, n));\nexport const used = [new Mutex(), leakCheck, pLimit];\n`,
    );
    writeFileSync(join(app, "consumer.cts"), `import asyncdoctor = require("asyncdoctor");\nexport const used = asyncdoctor.TaskTracker;\n`);
    const compilerOptions = {
      module: "NodeNext",
      moduleResolution: "NodeNext",
      target: "ES2022",
      lib: ["ES2023", "ESNext.Disposable"],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ["node"],
      typeRoots: [join(root, "node_modules", "@types")],
    };
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["consumer.mts", "consumer.cts"] }));
    const r = run([require.resolve("typescript/bin/tsc"), "-p", "tsconfig.json"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
