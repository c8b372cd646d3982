// CommonJS entry of `striate/io` (package.json exports "require"): the package is ES modules with a top-level
// await (the wasm backend loads before the first tensor), which require() cannot run synchronously, so this
// module exports a promise of the ES module: `const m = await require("striate/io");`.
"use strict";
module.exports = import("../dist/io/index-node.js");
