// CommonJS entry of `striate/nn` (package.json exports "require"): the package is ES modules with a top-level
// await (the wasm backend loads before the first tensor), which require() cannot run synchronously, so this
// module exports a promise of the ES module: `const m = await require("striate/nn");`.
"use strict";
module.exports = import("../dist/nn/index-node.js");
