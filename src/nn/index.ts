/**
 * Layers and containers (torch.nn): Module, Parameter, Sequential and every CNN layer.
 *
 * @module striate/nn
 */

export * from "./module.js";
export * from "./parameter.js";
export * from "./containers.js";
export * from "./linear.js";
export * from "./conv.js";
export * from "./pooling.js";
export * from "./activation.js";
export * from "./normalization.js";
export * from "./dropout.js";
export * from "./loss.js";
export * from "./blocks.js";
export * as init from "./init.js";
export * from "./upsample.js";
export * from "./clip-grad.js";
