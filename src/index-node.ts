// Striate's entry point in Node (package.json "exports" condition "node"): the same API as src/index.ts,
// with the wasm backend loaded and made the default before the first tensor is created
// (backend/node-default.ts).

import "./backend/node-default.js";

export * from "./index.js";
