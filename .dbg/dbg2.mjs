import ts from "typescript";
import { nestedAcquire } from "/work/wt/static/dist/esm/src/check/rules/nested-acquire.js";
const file = process.argv[2];
const program = ts.createProgram([file], { strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, noEmit: true });
const checker = program.getTypeChecker();
const sf = program.getSourceFile(file);
nestedAcquire.checkProgram({ program, checker, sourceFiles: [sf], options: {}, report: (f) => console.log(sf.getLineAndCharacterOfPosition(f.node.getStart()).line + 1, f.summary) });
