// Class activation maps from a layer's feature maps A and the gradient dS/dA: Grad-CAM (Selvaraju et al.
// 2017, "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization") and Grad-CAM++
// (Chattopadhay et al. 2018, "Grad-CAM++: Improved Visual Explanations for Deep Convolutional Networks",
// computed from first-order gradients as pytorch-grad-cam does), optionally upsampled bilinearly to the input.
//
// The layer's output is captured by a forward hook that hands the rest of the network a leaf copy of it:
// backward then stops at the layer and leaves dS/dA on that leaf, without differentiating the layers below.

import type { Module } from "../nn/module.js";
import { Tensor, tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { enableGrad } from "../autograd/engine.js";
import { compare } from "../ops/elementwise.js";
import { resizeBilinear } from "../data/resize.js";
import { resolveLayer, type LayerRef } from "./layers.js";
import {
  backwardFromScores,
  checkBatch,
  targetIndices,
  targetScores,
  withFrozenParameters,
  type Attribution,
  type TargetOptions,
} from "./attribution.js";

/** Options of {@link GradCam.attribute} and {@link GradCamPlusPlus.attribute}. */
export interface GradCamOptions extends TargetOptions {
  /** Resize the maps bilinearly (align_corners = false) to the input's H×W, giving [N, H, W] (default false). */
  upsample?: boolean;
  /** Pass the weighted sum through ReLU, as in the paper (default true; Captum's `relu_attributions`). */
  reluAttributions?: boolean;
}

/** A layer's output A [N, K, h, w] for a batch and the gradient dS/dA of the explained scores. */
export interface LayerGradient {
  activation: Tensor;
  gradient: Tensor;
}

/**
 * The output A of `layer` for the batch x and dS/dA, S = the target's score summed over the batch. The
 * layer must run exactly once per forward and output a feature map [N, K, h, w].
 *
 * @example const { activation, gradient } = layerGradient(model, "features.4", x, 3);
 */
export function layerGradient(
  model: Module,
  layer: LayerRef,
  x: Tensor,
  target: TargetOptions["target"],
  caller = "layerGradient",
): LayerGradient {
  checkBatch(x, caller);
  const { name, module } = resolveLayer(model, layer, caller);
  const indices = targetIndices(target, x.shape[0], caller);
  const captured: Tensor[] = [];
  const handle = module.registerForwardHook((_m, _inputs, output) => {
    if (!(output instanceof Tensor))
      throw new Error(`${caller}: layer '${name}' returned ${typeof output}; it must output a Tensor`);
    const leaf = output.detach().requiresGrad_(true);
    captured.push(leaf);
    return leaf;
  });
  try {
    return withFrozenParameters(model, () =>
      enableGrad(() => {
        const scores = targetScores(model, x.detach(), indices, caller);
        if (captured.length !== 1) {
          throw new Error(
            `${caller}: layer '${name}' ran ${captured.length} times in one forward; it must run exactly once`,
          );
        }
        const activation = captured[0];
        if (activation.ndim !== 4 || activation.shape[0] !== x.shape[0]) {
          throw new Error(
            `${caller}: layer '${name}' outputs ${formatShape(activation.shape)}; it needs a feature map [N, K, h, w] (pick a convolutional layer)`,
          );
        }
        backwardFromScores(scores, caller, `layer '${name}'`);
        if (!activation.grad)
          throw new Error(`${caller}: the model's output does not depend differentiably on layer '${name}'`);
        return { activation: activation.detach(), gradient: activation.grad };
      }),
    );
  } finally {
    handle.remove();
  }
}

/** Resizes maps [N, h, w] bilinearly (align_corners = false, like F.interpolate) to [N, H, W]; no gradient. */
export function upsampleMaps(maps: Tensor, height: number, width: number): Tensor {
  if (maps.ndim !== 3)
    throw new Error(`upsampleMaps: expected maps [N, h, w], got ${formatShape(maps.shape)}`);
  const [n, h, w] = maps.shape;
  const values = resizeBilinear(Float32Array.from(maps.toArray()), n, h, w, height, width);
  return tensor(values, [n, height, width], { backend: maps.backend.name }).to(maps.dtype);
}

/** Σ_k weights[n, k]·A[n, k] over the channels, then ReLU (when asked) and upsampling (when asked). */
function weightedMap(x: Tensor, activation: Tensor, weights: Tensor, options: GradCamOptions): Tensor {
  const [n, k] = activation.shape;
  const summed = activation.mul(weights.reshape([n, k, 1, 1])).sum(1);
  const map = options.reluAttributions === false ? summed : summed.relu();
  return options.upsample ? upsampleMaps(map, x.shape[2], x.shape[3]) : map;
}

/**
 * Grad-CAM (Selvaraju et al. 2017): ReLU(Σ_k α_k A^k) with α_k = the mean over h, w of dS/dA^k, at the
 * resolution of `layer` (a module or its dotted name, usually the last convolutional block). Like Captum's
 * `LayerGradCam` with `relu_attributions: true`, but returns [N, h, w] (no channel dim of 1).
 *
 * @example
 * const cam = new GradCam(model, { layer: "features.4" }).attribute(x, { target: 3, upsample: true }); // [N, H, W]
 */
export class GradCam implements Attribution<GradCamOptions> {
  readonly layer: LayerRef;

  constructor(
    readonly model: Module,
    options: { layer: LayerRef },
  ) {
    this.layer = options.layer;
    resolveLayer(model, this.layer, this.constructor.name);
  }

  /** Maps [N, h, w] at the layer's resolution, or [N, H, W] with `upsample: true`. */
  attribute(x: Tensor, options: GradCamOptions = {}): Tensor {
    const caller = this.constructor.name;
    checkBatch(x, caller, 4, 4);
    const { activation, gradient } = layerGradient(this.model, this.layer, x, options.target, caller);
    return weightedMap(x, activation, this.channelWeights(activation, gradient), options);
  }

  /** α [N, K]: the importance of each feature map. */
  protected channelWeights(_activation: Tensor, gradient: Tensor): Tensor {
    return gradient.mean([2, 3]);
  }
}

/**
 * Grad-CAM++ (Chattopadhay et al. 2018) with pytorch-grad-cam's first-order form: with g = dS/dA,
 * a = g² / (2g² + Σ_hw(A)·g³ + 1e-7) (0 where g = 0), weights_k = Σ_hw ReLU(g)·a, map = ReLU(Σ_k weights_k A^k).
 *
 * @example const cam = new GradCamPlusPlus(model, { layer: "layer4" }).attribute(x, { target: labels });
 */
export class GradCamPlusPlus extends GradCam {
  protected override channelWeights(activation: Tensor, gradient: Tensor): Tensor {
    const g2 = gradient.square();
    const g3 = g2.mul(gradient);
    const denominator = g2
      .mul(2)
      .add(activation.sum([2, 3], true).mul(g3))
      .add(1e-7);
    const nonzero = compare("eq", gradient, 0).neg().add(1);
    const a = g2.div(denominator).mul(nonzero);
    return gradient.relu().mul(a).sum([2, 3]);
  }
}
