// Types of cjs/node.cjs: a promise of the ES module `striate/node`.
declare const entry: Promise<typeof import("../dist/node/index.js")>;
export = entry;
