// Types of cjs/train.cjs: a promise of the ES module `striate/train`.
declare const entry: Promise<typeof import("../dist/train/index.js")>;
export = entry;
