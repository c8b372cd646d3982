/**
 * Training (browser-safe): fit, evaluate, predict, metrics, History, callbacks and progress events.
 *
 * @module striate/train
 */

export * from "./fit.js";
export * from "./history.js";
export * from "./metrics.js";
export * from "./callbacks.js";
export * from "./progress.js";
export * from "./finetune.js";
export * from "./pretrain.js";
export * from "./segmentation.js";
