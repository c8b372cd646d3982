// Seeing what a CNN learned (browser-safe): attributions (saliency, gradients, Grad-CAM, occlusion …),
// activations and filters as pictures, class-model and feature visualization, adversarial examples.

export * from "./layers.js";
export * from "./adversarial.js";
export * from "./class-model.js";
export * from "./colormap.js";
export * from "./pictures.js";
export * from "./activations.js";
export * from "./feature-vis.js";
export * from "./patches.js";
export * from "./embeddings.js";
