/**
 * Striate's Node-only API (package subpath "striate/node"): model directories (atomic checkpoints,
 * loading, resuming), file-writing training callbacks, the terminal progress bar, plot files, dataset
 * loaders from disk and the CLI's main().
 *
 * @module striate/node
 */

export * from "./checkpoint.js";
export * from "./callbacks.js";
export * from "./progress.js";
export * from "./plots.js";
export * from "./data/index.js";
export * from "./weights.js";
export { main as cliMain } from "./cli/main.js";
export { loadOnnx, saveOnnx } from "./onnx.js";
export * from "./tune.js";
export * from "./pictures.js";
export * from "./svg-png.js";
