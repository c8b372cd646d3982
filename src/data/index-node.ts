// The "striate/data" entry point in Node (package.json "exports" condition "node"): src/data/index.ts with the
// wasm backend loaded and made the default first (backend/node-default.ts).

import "../backend/node-default.js";

export * from "./index.js";
