// Types of cjs/optim.cjs: a promise of the ES module `striate/optim`.
declare const entry: Promise<typeof import("../dist/optim/index.js")>;
export = entry;
