// Striate's entry point in Node (package.json "exports" condition "node"): the same API as src/index.ts,
// with the wasm backend loaded and made the default before the first tensor is created. The top-level
// await compiles the kernels and starts one worker per core (workers are unref'd: they never keep the
// process alive).

import { initWasm } from "./backend/wasm/index.js";

export * from "./index.js";

await initWasm();
