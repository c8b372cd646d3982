// Types of cjs/index.cjs: a promise of the ES module `striate`.
declare const entry: Promise<typeof import("../dist/index.js")>;
export = entry;
