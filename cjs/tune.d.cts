// Types of cjs/tune.cjs: a promise of the ES module `striate/tune`.
declare const entry: Promise<typeof import("../dist/tune/index.js")>;
export = entry;
