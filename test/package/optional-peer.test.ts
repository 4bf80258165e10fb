import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { installHint, missingPeer } from "../../src/cli/optional-peer.js";

const require = createRequire(import.meta.url);

/** The error Node throws for a module that cannot be found. */
function notFound(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("missingPeer", () => {
  it("names TypeScript when an ESM import of it failed", () => {
    assert.equal(
      missingPeer(
        notFound("ERR_MODULE_NOT_FOUND", "Cannot find package 'typescript' imported from /app/node_modules/asyncdoctor/dist/esm/src/check/runner.js"),
      ),
      "typescript",
    );
  });
  it("names tsx when require.resolve of it failed", () => {
    assert.equal(missingPeer(notFound("MODULE_NOT_FOUND", "Cannot find module 'tsx'\nRequire stack:\n- /app/x.js")), "tsx");
  });
  it("names the package of a missing subpath", () => {
    assert.equal(missingPeer(notFound("MODULE_NOT_FOUND", "Cannot find module 'typescript/lib/tsserverlibrary'")), "typescript");
  });
  it("a real failed require is recognised", () => {
    let err: unknown;
    try {
      require.resolve("typescript-that-is-not-installed");
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof Error);
    assert.equal(missingPeer(err), undefined, "another package is not one of the optional peers");
  });

  it("stays silent on another missing package", () => {
    assert.equal(missingPeer(notFound("ERR_MODULE_NOT_FOUND", "Cannot find package 'left-pad' imported from /app/a.js")), undefined);
  });
  it("stays silent on a missing file of the program itself", () => {
    assert.equal(missingPeer(notFound("ERR_MODULE_NOT_FOUND", "Cannot find module '/app/typescript.js' imported from /app/a.js")), undefined);
  });
  it("stays silent on an error that only mentions the name", () => {
    assert.equal(missingPeer(new Error("Cannot find module 'typescript'")), undefined, "no module-not-found code");
    assert.equal(missingPeer(notFound("ENOENT", "Cannot find module 'tsx'")), undefined);
  });
  it("stays silent on what is not an Error", () => {
    assert.equal(missingPeer("Cannot find module 'typescript'"), undefined);
    assert.equal(missingPeer(undefined), undefined);
  });
});

describe("installHint", () => {
  it("says what needs the package and the command that installs it", () => {
    assert.equal(
      installHint("tsx"),
      "asyncdoctor run needs tsx to run a TypeScript file, which is not installed. Install it next to asyncdoctor: npm install --save-dev tsx\n",
    );
    assert.match(installHint("typescript"), /check \(the static checker\) needs TypeScript.*npm install --save-dev typescript\n$/);
  });
});
