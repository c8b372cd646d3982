// Attributions that change ReLU's backward: guided backpropagation (Springenberg et al. 2015, "Striving for
// Simplicity: The All Convolutional Net"), the deconvnet (Zeiler & Fergus 2014, "Visualizing and
// Understanding Convolutional Networks") and guided Grad-CAM (Selvaraju et al. 2017). The ReLU rule is
// swapped with withBackwardOverride, so it reaches nn.ReLU modules and F.relu calls inside forward() alike.
// Other activations (LeakyReLU, ELU, GELU, ReLU6, sigmoid, …) keep their own backward: these methods are
// defined for ReLU networks, and a model without ReLUs gets the plain gradient from them.

import type { Module } from "../nn/module.js";
import type { Tensor } from "../tensor/tensor.js";
import { compare } from "../ops/elementwise.js";
import { withBackwardOverride, type BackwardOverride } from "../autograd/primitive.js";
import type { LayerRef } from "./layers.js";
import {
  checkBatch,
  targetGradient,
  targetIndices,
  type Attribution,
  type TargetOptions,
} from "./attribution.js";
import { GradCam } from "./grad-cam.js";

/** Guided backprop's ReLU backward: grad_out · [input > 0] · [grad_out > 0]. */
export const guidedReluBackward: BackwardOverride = (grad, [x]) => [grad.relu().mul(compare("gt", x, 0))];

/** The deconvnet's ReLU backward: ReLU(grad_out), the forward mask ignored (max-pool switches are kept). */
export const deconvReluBackward: BackwardOverride = (grad) => [grad.relu()];

/** dS/dx with ReLU's backward replaced by `rule`. */
function gradientWithReluRule(
  model: Module,
  x: Tensor,
  options: TargetOptions,
  rule: BackwardOverride,
  caller: string,
) {
  checkBatch(x, caller);
  const indices = targetIndices(options.target, x.shape[0], caller);
  return targetGradient(model, x, indices, caller, (fn) => withBackwardOverride({ relu: rule }, fn));
}

/**
 * Guided backpropagation (Springenberg et al. 2015): the gradient where every ReLU passes back only positive
 * gradients at positive inputs. Sharp pictures, but Adebayo et al. 2018 ("Sanity Checks for Saliency Maps")
 * show they barely change when the top layers are randomized: they show the image's edges more than the
 * model's decision. Like Captum's `GuidedBackprop` (which reaches nn.ReLU modules only; here F.relu too).
 *
 * @example const map = new GuidedBackprop(model).attribute(x, { target: 3 }); // [N, C, H, W]
 */
export class GuidedBackprop implements Attribution {
  constructor(readonly model: Module) {}

  /** The guided gradient, shaped like x. */
  attribute(x: Tensor, options: TargetOptions = {}): Tensor {
    return gradientWithReluRule(this.model, x, options, guidedReluBackward, "GuidedBackprop");
  }
}

/**
 * Deconvnet (Zeiler & Fergus 2014): the backward pass with every ReLU applied to the backward signal instead
 * of masked by the forward input; max pooling routes through its switches as usual. Like Captum's
 * `Deconvolution`.
 *
 * @example const map = new Deconvolution(model).attribute(x, { target: 3 }); // [N, C, H, W]
 */
export class Deconvolution implements Attribution {
  constructor(readonly model: Module) {}

  /** The deconvnet reconstruction, shaped like x. */
  attribute(x: Tensor, options: TargetOptions = {}): Tensor {
    return gradientWithReluRule(this.model, x, options, deconvReluBackward, "Deconvolution");
  }
}

/**
 * Guided Grad-CAM (Selvaraju et al. 2017): guided backprop times the Grad-CAM map of `layer` upsampled
 * bilinearly to the input, broadcast over channels. Like Captum's `GuidedGradCam` (which upsamples with
 * nearest by default; bilinear here, as the paper's code).
 *
 * @example const map = new GuidedGradCam(model, { layer: "features.4" }).attribute(x, { target: 3 });
 */
export class GuidedGradCam implements Attribution {
  private readonly gradCam: GradCam;
  private readonly guided: GuidedBackprop;

  constructor(
    readonly model: Module,
    options: { layer: LayerRef },
  ) {
    this.gradCam = new GradCam(model, options);
    this.guided = new GuidedBackprop(model);
  }

  /** guided backprop [N, C, H, W] · upsampled Grad-CAM [N, 1, H, W]. */
  attribute(x: Tensor, options: TargetOptions = {}): Tensor {
    checkBatch(x, "GuidedGradCam", 4, 4);
    const cam = this.gradCam.attribute(x, { target: options.target, upsample: true });
    return this.guided.attribute(x, options).mul(cam.unsqueeze(1));
  }
}
