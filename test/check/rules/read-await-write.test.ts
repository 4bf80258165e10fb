import { readAwaitWrite } from "../../../src/check/rules/read-await-write.js";
import { ruleTester } from "../rule-tester.js";
import { readAwaitWriteCases } from "./read-await-write.cases.js";

ruleTester(readAwaitWrite, readAwaitWriteCases);
