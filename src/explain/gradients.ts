// Gradient attributions: Saliency (|dS/dx|, Simonyan, Vedaldi & Zisserman 2014, "Deep Inside Convolutional
// Networks: Visualising Image Classification Models and Saliency Maps") and InputXGradient (x · dS/dx,
// Shrikumar et al. 2016, "Not Just a Black Box"), with Captum's names and options.

import type { Module } from "../nn/module.js";
import type { Tensor } from "../tensor/tensor.js";
import {
  checkBatch,
  targetGradient,
  targetIndices,
  type Attribution,
  type TargetOptions,
} from "./attribution.js";

/** Options of {@link Saliency.attribute}. */
export interface SaliencyOptions extends TargetOptions {
  /** Absolute value of the gradient (default true, as Captum's `abs`). */
  abs?: boolean;
  /** "max": the maximum over the channel dim 1, giving [N, H, W] as in Simonyan et al. (default: none). */
  reduce?: "max";
}

/**
 * Saliency map (Simonyan et al. 2014): the gradient of the target class's score with respect to the input,
 * |dS/dx| by default. Like Captum's `Saliency`.
 *
 * @example
 * const map = new Saliency(model).attribute(x, { target: 3, reduce: "max" }); // [N, H, W]
 */
export class Saliency implements Attribution<SaliencyOptions> {
  constructor(readonly model: Module) {}

  /** The gradient map: x's shape [N, C, H, W], or [N, H, W] with `reduce: "max"`. */
  attribute(x: Tensor, options: SaliencyOptions = {}): Tensor {
    checkBatch(x, "Saliency", options.reduce ? 3 : 2);
    if (options.reduce !== undefined && options.reduce !== "max")
      throw new Error(`Saliency: reduce must be "max" or omitted, got ${String(options.reduce)}`);
    const grad = targetGradient(
      this.model,
      x,
      targetIndices(options.target, x.shape[0], "Saliency"),
      "Saliency",
    );
    const map = options.abs === false ? grad : grad.abs();
    return options.reduce === "max" ? map.max(1) : map;
  }
}

/**
 * Input × gradient (Shrikumar et al. 2016): x · dS/dx, the first-order contribution of each input element.
 * Like Captum's `InputXGradient`.
 *
 * @example const attr = new InputXGradient(model).attribute(x, { target: labels }); // [N, C, H, W]
 */
export class InputXGradient implements Attribution {
  constructor(readonly model: Module) {}

  /** x · dS/dx, shaped like x. */
  attribute(x: Tensor, options: TargetOptions = {}): Tensor {
    checkBatch(x, "InputXGradient");
    const indices = targetIndices(options.target, x.shape[0], "InputXGradient");
    return x.detach().mul(targetGradient(this.model, x, indices, "InputXGradient"));
  }
}
