/**
 * Hyperparameter search (browser-safe): typed spaces, random/grid/coarse-to-fine search, successive
 * halving, result tables and plots. Worker-process trials and files are in striate/node.
 *
 * @module striate/tune
 */

export * from "./space.js";
export * from "./search.js";
export * from "./plot.js";
