// Types of cjs/data.cjs: a promise of the ES module `striate/data`.
declare const entry: Promise<typeof import("../dist/data/index.js")>;
export = entry;
