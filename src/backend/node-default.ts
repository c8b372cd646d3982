// Imported first by every Node entry point of the package (src/index-node.ts and src/*/index-node.ts, the
// "node" conditions of package.json's exports): loads the wasm backend and makes it the default before the
// user's first tensor, so `import { nn } from "striate/nn"` alone trains at full speed. Entry points share
// this one module, so importing several subpaths loads the backend once; a later setBackend() (the user's
// choice) is never overridden. The top-level await compiles the kernels and starts one worker per core
// (workers are unref'd: they never keep the process alive). Browsers call `await initWasm()` once; every
// subpath then shares the same registry.

import { initWasm } from "./wasm/index.js";

await initWasm();
