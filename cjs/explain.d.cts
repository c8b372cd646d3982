// Types of cjs/explain.cjs: a promise of the ES module `striate/explain`.
declare const entry: Promise<typeof import("../dist/explain/index.js")>;
export = entry;
