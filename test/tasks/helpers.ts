export * from "../helpers.js"; // kept for the folders that still import from here: the helpers live in test/helpers.ts
