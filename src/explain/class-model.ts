// Class model visualisation (Simonyan, Vedaldi & Zisserman 2014, "Deep inside convolutional networks:
// visualising image classification models and saliency maps", section 2): the image I that maximises the
// class score S_c(I) - l2 · ||I||², found by gradient ascent from I = 0. It shows what the network has
// learned to look for in class c — stroke fragments for an MNIST digit, textures for ImageNet classes. The
// score is the unnormalised logit, not the softmax, which could also rise by lowering other classes.

import type { Module } from "../nn/module.js";
import { Tensor, tensor } from "../tensor/tensor.js";
import { targetGradient } from "./attribution.js";
import { classIndices, logitsOf } from "./model-calls.js";
import { noGrad } from "../autograd/engine.js";

/** Options of {@link classModelVisualization}. */
export interface ClassModelOptions {
  /** The class c whose logit is maximised. */
  target: number;
  /** Input shape [C, H, W] of the model. */
  shape: readonly [number, number, number];
  /** Gradient-ascent steps. Default 100. */
  steps?: number;
  /** Step size. Default 0.5. */
  lr?: number;
  /** Weight of the L2 penalty on the image. Default 0.01. */
  l2?: number;
  /** Starting image [1, C, H, W]; default zeros, as in the paper. */
  init?: Tensor;
  /** Backend of the image; the current default when omitted. */
  backend?: string;
}

function checkShape(shape: readonly number[]): void {
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0))
    throw new Error(
      `classModelVisualization: shape must be [C, H, W] of positive integers, got [${shape.join(", ")}]`,
    );
}

/**
 * Gradient ascent on the input: I ← I + lr · d(S_target(I) - l2 · ||I||²)/dI, `steps` times, from zeros
 * (Simonyan et al. 2014). The model should be in eval mode.
 * @returns the class model image [1, C, H, W] (unnormalised; `normalizeImage` maps it to [0, 1] for display)
 * @example const img = classModelVisualization(model, { target: 3, shape: [1, 28, 28], steps: 200 });
 */
export function classModelVisualization(model: Module, options: ClassModelOptions): Tensor {
  checkShape(options.shape);
  const steps = options.steps ?? 100;
  const lr = options.lr ?? 0.5;
  const l2 = options.l2 ?? 0.01;
  if (!(Number.isInteger(steps) && steps >= 0))
    throw new Error(`classModelVisualization: steps must be an integer ≥ 0, got ${steps}`);
  if (!(Number.isFinite(lr) && Number.isFinite(l2) && l2 >= 0))
    throw new Error(
      `classModelVisualization: lr must be finite and l2 finite and ≥ 0, got lr ${lr}, l2 ${l2}`,
    );
  const shape = [1, ...options.shape];
  const backend = options.backend ?? options.init?.backend.name;
  const image = options.init
    ? Float32Array.from(options.init.toArray())
    : new Float32Array(shape.reduce((a, b) => a * b));
  if (image.length !== shape.reduce((a, b) => a * b))
    throw new Error(
      `classModelVisualization: init has ${image.length} values, shape [${shape.join(", ")}] needs ${shape.reduce((a, b) => a * b)}`,
    );
  // The class index is checked against the model's outputs once, before the loop.
  const k = noGrad(() => logitsOf(model, tensor(image, shape, { backend }), "classModelVisualization"))
    .shape[1];
  const target = classIndices([options.target], 1, k, "classModelVisualization");
  for (let step = 0; step < steps; step++) {
    const grad = targetGradient(
      model,
      tensor(image, shape, { backend }),
      target,
      "classModelVisualization",
    ).toArray();
    // d(-l2 ||I||²)/dI = -2 l2 I, added here rather than through the graph.
    for (let i = 0; i < image.length; i++) image[i] += lr * (grad[i] - 2 * l2 * image[i]);
  }
  return tensor(image, shape, { backend });
}
