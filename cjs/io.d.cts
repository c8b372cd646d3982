// Types of cjs/io.cjs: a promise of the ES module `striate/io`.
declare const entry: Promise<typeof import("../dist/io/index.js")>;
export = entry;
