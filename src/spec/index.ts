/**
 * Model specs (browser-safe): the JSON layer-list format, ConvNetJS layer_defs and built-in architectures.
 *
 * @module striate/spec
 */

export * from "./spec.js";
export * from "./convnetjs.js";
export * from "./builtins.js";
