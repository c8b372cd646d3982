// Loss modules (torch.nn.CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, BCEWithLogitsLoss, MultiMarginLoss,
// SmoothL1Loss, HuberLoss, KLDivLoss): they hold the reduction and options and call the functional loss, so
// a training loop can take any of them as `criterion.forward(output, target)`.

import type { Tensor } from "../tensor/tensor.js";
import { formatShape, sameShape } from "../tensor/shape.js";
import {
  binaryCrossEntropyWithLogits,
  crossEntropy,
  huberLoss,
  klDiv,
  l1Loss,
  mseLoss,
  multiMarginLoss,
  nllLoss,
  smoothL1Loss,
  type KlDivOptions,
  type Reduction,
} from "../ops/losses.js";
import { Module } from "./module.js";
import { checkOptionKeys } from "../ops/util.js";

/** Options every loss layer takes (torch's `reduction`). */
export interface LossOptions {
  /** "mean" (default) over all elements, "sum", or "none" for the per-element losses. */
  reduction?: Reduction;
}

/** Options of `CrossEntropyLoss` (torch's `label_smoothing`, `weight`, `ignore_index`, `reduction`). */
export interface CrossEntropyLossOptions extends LossOptions {
  /** eps in [0, 1]: the target becomes (1 - eps)·one-hot + eps/C. Default 0. */
  labelSmoothing?: number;
  /** Per-class weights [C]; 'mean' divides by the summed weights of the counted targets (torch's rule). */
  weight?: Tensor | null;
  /** Class-index targets equal to this are skipped (default -100). */
  ignoreIndex?: number;
}

/**
 * Options of `NLLLoss` (torch's keyword arguments): `weight` per class [C] (default none), `ignoreIndex`
 * (default -100), `reduction` (default "mean").
 */
export interface NLLLossOptions extends LossOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
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

  /** `keys`: the options this loss accepts beyond `reduction` (any other key is rejected). */
  constructor(options: LossOptions = {}, keys: readonly string[] = []) {
    super();
    checkOptionKeys(new.target.name, options, ["reduction", ...keys]);
    this.reduction = checkReduction(new.target.name, options.reduction ?? "mean");
  }

  /** The loss of `input` (a prediction or logits) against `target`, reduced as `reduction` says. */
  abstract override forward(input: Tensor, target: Tensor): Tensor;

  /** `reduction=mean` (and the loss's own options), as torch prints it. */
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
  readonly ignoreIndex: number | undefined;

  constructor(options: CrossEntropyLossOptions = {}) {
    super(options, ["labelSmoothing", "weight", "ignoreIndex"]);
    const eps = options.labelSmoothing ?? 0;
    if (!(eps >= 0 && eps <= 1))
      throw new Error(`CrossEntropyLoss: labelSmoothing must be in [0, 1], got ${eps}`);
    this.labelSmoothing = eps;
    registerWeight(this, checkWeight("CrossEntropyLoss", options.weight));
    this.ignoreIndex = checkIgnore("CrossEntropyLoss", options.ignoreIndex);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
      weight: classWeight(this),
      ignoreIndex: this.ignoreIndex,
    });
  }

  override extraRepr(): string {
    const extra = this.ignoreIndex === undefined ? "" : `, ignoreIndex=${this.ignoreIndex}`;
    return `reduction=${this.reduction}, labelSmoothing=${this.labelSmoothing}${classWeight(this) ? ", weight" : ""}${extra}`;
  }
}

/** Class weights are the buffer `weight`, as torch's _WeightedLoss registers them (so state dicts match). */
function registerWeight(loss: Module, weight: Tensor | null): void {
  loss.registerBuffer("weight", weight);
}

function classWeight(loss: Module): Tensor | null {
  return loss.namedBuffers().find(([name]) => name === "weight")?.[1] ?? null;
}

function checkWeight(layer: string, weight: Tensor | null | undefined): Tensor | null {
  if (weight && weight.ndim !== 1)
    throw new Error(`${layer}: weight must be 1-D [C], got ${formatShape(weight.shape)}`);
  return weight ?? null;
}

function checkIgnore(layer: string, ignoreIndex: number | undefined): number | undefined {
  if (ignoreIndex !== undefined && !Number.isInteger(ignoreIndex))
    throw new Error(`${layer}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  return ignoreIndex;
}

/**
 * Negative log-likelihood of int32 class indices [N] given log-probabilities [N, C] (e.g. from LogSoftmax).
 * @example new NLLLoss().forward(new LogSoftmax().forward(logits), labels)
 */
export class NLLLoss extends Loss {
  readonly ignoreIndex: number | undefined;

  constructor(options: NLLLossOptions = {}) {
    super(options, ["weight", "ignoreIndex"]);
    registerWeight(this, checkWeight("NLLLoss", options.weight));
    this.ignoreIndex = checkIgnore("NLLLoss", options.ignoreIndex);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, {
      reduction: this.reduction,
      weight: classWeight(this),
      ignoreIndex: this.ignoreIndex,
    });
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

/**
 * Options of `MultiMarginLoss` (torch.nn.MultiMarginLoss's `p`, `margin`, `weight` per class [C],
 * `reduction`).
 */
export interface MultiMarginLossLayerOptions extends LossOptions {
  /** 1 (default) or 2. */
  p?: 1 | 2;
  /** Default 1. */
  margin?: number;
  weight?: Tensor | null;
}

/**
 * Multi-class hinge loss on scores [N, C] and int32 labels [N] (torch.nn.MultiMarginLoss; ConvNetJS's
 * SVMLoss): Σ_{j≠y} max(0, margin - x_y + x_j)^p / C per sample.
 * @example new MultiMarginLoss().forward(scores, labels)
 */
export class MultiMarginLoss extends Loss {
  readonly p: 1 | 2;
  readonly margin: number;

  constructor(options: MultiMarginLossLayerOptions = {}) {
    super(options, ["p", "margin", "weight"]);
    this.p = options.p ?? 1;
    this.margin = options.margin ?? 1;
    if (this.p !== 1 && this.p !== 2)
      throw new Error(`MultiMarginLoss: p must be 1 or 2, got ${JSON.stringify(this.p)}`);
    if (!Number.isFinite(this.margin))
      throw new Error(`MultiMarginLoss: margin must be a finite number, got ${this.margin}`);
    registerWeight(this, checkWeight("MultiMarginLoss", options.weight));
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return multiMarginLoss(input, target, {
      p: this.p,
      margin: this.margin,
      weight: classWeight(this),
      reduction: this.reduction,
    });
  }

  override extraRepr(): string {
    return `p=${this.p}, margin=${this.margin}, reduction=${this.reduction}`;
  }
}

/**
 * Smooth L1 loss (torch.nn.SmoothL1Loss): quadratic for |d| < beta, linear beyond.
 * @example new SmoothL1Loss({ beta: 0.5 }).forward(boxes, targetBoxes)
 */
export class SmoothL1Loss extends Loss {
  readonly beta: number;

  constructor(options: LossOptions & { beta?: number } = {}) {
    super(options, ["beta"]);
    this.beta = options.beta ?? 1;
    if (!(this.beta >= 0 && Number.isFinite(this.beta)))
      throw new Error(`SmoothL1Loss: beta must be a non-negative number, got ${this.beta}`);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { beta: this.beta, reduction: this.reduction });
  }

  override extraRepr(): string {
    return `beta=${this.beta}, reduction=${this.reduction}`;
  }
}

/** Huber loss (torch.nn.HuberLoss): 0.5·d² for |d| < delta, delta·(|d| - delta/2) beyond. */
export class HuberLoss extends Loss {
  readonly delta: number;

  constructor(options: LossOptions & { delta?: number } = {}) {
    super(options, ["delta"]);
    this.delta = options.delta ?? 1;
    if (!(this.delta > 0 && Number.isFinite(this.delta)))
      throw new Error(`HuberLoss: delta must be a positive number, got ${this.delta}`);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { delta: this.delta, reduction: this.reduction });
  }

  override extraRepr(): string {
    return `delta=${this.delta}, reduction=${this.reduction}`;
  }
}

/**
 * KL divergence (torch.nn.KLDivLoss) of the target distribution from the input's log-probabilities.
 * reduction "mean" (default, per element, as torch), "batchmean" (the mathematical KL per sample), "sum"
 * or "none"; `logTarget` when the target holds log-probabilities.
 * @example new KLDivLoss({ reduction: "batchmean" }).forward(logSoftmax(x, 1), teacherProbs)
 */
export class KLDivLoss extends Module {
  readonly reduction: Reduction | "batchmean";
  readonly logTarget: boolean;

  constructor(options: KlDivOptions = {}) {
    super();
    checkOptionKeys("KLDivLoss", options, ["reduction", "logTarget"]);
    const reduction = options.reduction ?? "mean";
    if (!["mean", "batchmean", "sum", "none"].includes(reduction)) {
      throw new Error(
        `KLDivLoss: reduction must be 'mean', 'batchmean', 'sum' or 'none', got '${reduction}'`,
      );
    }
    this.reduction = reduction;
    this.logTarget = options.logTarget ?? false;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }

  override extraRepr(): string {
    return `reduction=${this.reduction}, logTarget=${this.logTarget}`;
  }
}
