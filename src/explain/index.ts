/**
 * Seeing what a CNN learned (browser-safe): attributions (saliency, gradients, Grad-CAM, occlusion …),
 * activations and filters as pictures, class-model and feature visualization, adversarial examples.
 *
 * @module striate/explain
 */

export * from "./layers.js";
export type { Attribution, Target, TargetOptions } from "./attribution.js";
export * from "./gradients.js";
export * from "./smoothgrad.js";
export * from "./integrated-gradients.js";
export * from "./grad-cam.js";
export * from "./guided.js";
export * from "./occlusion.js";
export * from "./adversarial.js";
export * from "./class-model.js";
export * from "./colormap.js";
export * from "./pictures.js";
export * from "./activations.js";
export * from "./feature-vis.js";
export * from "./patches.js";
export * from "./embeddings.js";
export { sceneToSvg } from "../viz/plots.js";
export type { Scene, SceneShape, PlotSize } from "../viz/plots.js";
export type { Rgba } from "../viz/raster.js";
