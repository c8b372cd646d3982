// Types of cjs/models.cjs: a promise of the ES module `striate/models`.
declare const entry: Promise<typeof import("../dist/models/index.js")>;
export = entry;
