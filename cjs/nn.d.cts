// Types of cjs/nn.cjs: a promise of the ES module `striate/nn`.
declare const entry: Promise<typeof import("../dist/nn/index.js")>;
export = entry;
