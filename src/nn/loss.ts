// Loss modules (torch.nn.CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, BCEWithLogitsLoss): they hold the
// reduction and options and call the functional loss, so a training loop can take any of them as
// `criterion.forward(output, target)`.

import type { Tensor } from "../tensor/tensor.js";
import { formatShape, sameShape } from "../tensor/shape.js";
import {
  binaryCrossEntropyWithLogits,
  crossEntropy,
  l1Loss,
  mseLoss,
  nllLoss,
  type Reduction,
} from "../ops/losses.js";
import { Module } from "./module.js";

export interface LossOptions {
  /** "mean" (default) over all elements, "sum", or "none" for the per-element losses. */
  reduction?: Reduction;
}

export interface CrossEntropyLossOptions extends LossOptions {
  /** eps in [0, 1]: the target becomes (1 - eps)·one-hot + eps/C. Default 0. */
  labelSmoothing?: number;
}

function checkReduction(layer: string, reduction: Reduction): Reduction {
  if (reduction !== "mean" && reduction !== "sum" && reduction !== "none") {
    throw new Error(`${layer}: reduction must be 'mean', 'sum' or 'none', got '${reduction as string}'`);
  }
  return reduction;
}

/** Base of the loss modules: holds the reduction, forward(input, target) -> loss. */
export abstract class Loss extends Module {
  readonly reduction: Reduction;

  constructor(options: LossOptions = {}) {
    super();
    this.reduction = checkReduction(new.target.name, options.reduction ?? "mean");
  }

  abstract override forward(input: Tensor, target: Tensor): Tensor;

  override extraRepr(): string {
    return `reduction=${this.reduction}`;
  }
}

/**
 * Softmax cross-entropy between logits [N, C] (or [N, C, d…]) and int32 class indices [N] (or [N, d…]),
 * or class probabilities of the logits' shape (soft targets).
 * @example
 * const criterion = new CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const loss = criterion.forward(model.forward(x), labels); // scalar
 */
export class CrossEntropyLoss extends Loss {
  readonly labelSmoothing: number;

  constructor(options: CrossEntropyLossOptions = {}) {
    super(options);
    const eps = options.labelSmoothing ?? 0;
    if (!(eps >= 0 && eps <= 1))
      throw new Error(`CrossEntropyLoss: labelSmoothing must be in [0, 1], got ${eps}`);
    this.labelSmoothing = eps;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, { reduction: this.reduction, labelSmoothing: this.labelSmoothing });
  }

  override extraRepr(): string {
    return `reduction=${this.reduction}, labelSmoothing=${this.labelSmoothing}`;
  }
}

/**
 * Negative log-likelihood of int32 class indices [N] given log-probabilities [N, C] (e.g. from LogSoftmax).
 * @example new NLLLoss().forward(new LogSoftmax().forward(logits), labels)
 */
export class NLLLoss extends Loss {
  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { reduction: this.reduction });
  }
}

/**
 * Mean squared error (input - target)², input and target of the same shape.
 * @example new MSELoss().forward(prediction, target) // scalar
 */
export class MSELoss extends Loss {
  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute error |input - target|, input and target of the same shape. */
export class L1Loss extends Loss {
  forward(input: Tensor, target: Tensor): Tensor {
    // F.l1Loss would broadcast mismatched shapes; torch's L1Loss expects equal ones, as MSELoss does.
    if (!sameShape(input.shape, target.shape)) {
      throw new Error(
        `L1Loss: input ${formatShape(input.shape)} and target ${formatShape(target.shape)} must have the same shape`,
      );
    }
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

/**
 * Binary cross-entropy on logits with targets in [0, 1] of the same shape, computed stably as
 * max(x, 0) - x·t + log(1 + exp(-|x|)) (sigmoid folded in).
 * @example new BCEWithLogitsLoss().forward(logits, targets) // logits, targets [N, K]
 */
export class BCEWithLogitsLoss extends Loss {
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { reduction: this.reduction });
  }
}
