// Types of cjs/spec.cjs: a promise of the ES module `striate/spec`.
declare const entry: Promise<typeof import("../dist/spec/index.js")>;
export = entry;
