// Loss functions with torch's reductions: cross-entropy (class indices or probability targets, label
// smoothing, class weights, an ignored index), negative log-likelihood, mean squared error, L1, smooth L1
// and Huber, binary cross-entropy with logits, the multi-class hinge (multi-margin) and KL divergence.
// Cross-entropy is one primitive over [rows, classes] (the backend's fused softmax cross-entropy); the
// others are composites.

import { registerRules, type Rule } from "../autograd/primitive.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { abs, compare, div, exp, log, maximum, mul, neg, sub, add } from "./elementwise.js";
import { relu } from "./activations.js";
import { mean, sum } from "./reduce.js";
import { checkCompatible, checkFloat, checkOptionKeys, valuesOnHost, wrapLike } from "./util.js";
import { cast } from "./elementwise.js";
import { reshape, permute } from "./movement.js";
import { tensor } from "../tensor/tensor.js";
import { gather, where } from "./indexing.js";

/**
 * How a loss combines its per-element values: their mean, their sum, or none (the per-element tensor), as
 * torch's `reduction`.
 */
export type Reduction = "mean" | "sum" | "none";

/**
 * Options of `crossEntropy` (torch.nn.functional.cross_entropy's): `reduction` (default "mean"),
 * `labelSmoothing` (default 0), `weight` per class, `ignoreIndex` (default -100).
 */
export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** eps: loss = (1 - eps)·nll + eps·mean_c(-logSoftmax). */
  labelSmoothing?: number;
  /**
   * Per-class weights [C] (torch's weight): a sample of class y counts w[y] times, and 'mean' divides by
   * the sum of the weights of the counted samples, as torch does.
   */
  weight?: Tensor | null;
  /**
   * Class-index targets equal to this contribute nothing, neither to the sum nor to the 'mean' divisor
   * (default -100, torch's). If every target is ignored, 'mean' is 0/0 = NaN, as in torch. Probability
   * targets ignore it.
   */
  ignoreIndex?: number;
}

function reduce(loss: Tensor, reduction: Reduction, op: string): Tensor {
  switch (reduction) {
    case "mean":
      return mean(loss);
    case "sum":
      return sum(loss);
    case "none":
      return loss;
    default:
      throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${reduction as string}'`);
  }
}

/** Moves the class dim last and flattens: [N, C, d1, …] -> [N·d1·…, C]. */
function classesLast(x: Tensor): Tensor {
  if (x.ndim === 2) return x;
  const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2), 1];
  return reshape(permute(x, dims), [-1, x.shape[1]]);
}

/** [N, d1, …]: the shape of an unreduced loss, as torch returns it with reduction 'none'. */
function perSampleShape(input: Tensor): number[] {
  return [input.shape[0], ...input.shape.slice(2)];
}

function checkTargetShape(op: string, input: Tensor, target: Tensor): void {
  const expected = [input.shape[0], ...input.shape.slice(2)];
  if (target.ndim !== expected.length || target.shape.some((d, i) => d !== expected[i])) {
    throw new Error(
      `${op}: target ${formatShape(target.shape)} does not match input ${formatShape(input.shape)}; expected ${formatShape(expected)}`,
    );
  }
}

function checkLabel(op: string, input: Tensor, l: number, i: number): void {
  const classes = input.shape[1];
  if (!Number.isInteger(l) || l < 0 || l >= classes) {
    throw new Error(
      `${op}: label ${l} at position ${i} is out of range for ${classes} classes (input ${formatShape(input.shape)})`,
    );
  }
}

function checkLabels(op: string, input: Tensor, target: Tensor): Tensor {
  checkTargetShape(op, input, target);
  const labels = valuesOnHost(op, target, "target");
  for (let i = 0; i < labels.length; i++) checkLabel(op, input, labels[i], i);
  return target.dtype === "int32" ? target : cast(target, "int32");
}

function oneHotLike(op: string, labels: Tensor, input: Tensor): Tensor {
  if (labels.backend !== input.backend) {
    throw new Error(
      `${op}: labels live on backend ${labels.backend.name} but input on ${input.backend.name}`,
    );
  }
  const flat = reshape(labels, [-1]);
  const classes = input.shape[1];
  return wrapLike(input, input.backend.oneHot(flat.storage, classes, input.dtype), [flat.size, classes]);
}

function checkClassWeight(op: string, weight: Tensor | null | undefined, input: Tensor): void {
  if (!weight) return;
  checkCompatible(op, input, weight);
  if (weight.ndim !== 1 || weight.shape[0] !== input.shape[1]) {
    throw new Error(
      `${op}: weight ${formatShape(weight.shape)} must have one value per class, [${input.shape[1]}], for input ${formatShape(input.shape)}`,
    );
  }
}

/** Rows [N·d…, C] of target weights for class-index targets, and the divisor of the 'mean' reduction. */
interface ClassTargets {
  probs: Tensor;
  divisor: number;
}

/**
 * Target rows built on the host for class weights and ignored indices:
 * (1 - eps)·w[y]·onehot(y) + eps/C·w, zero for an ignored target; divisor Σ w[y] over counted targets.
 */
function weightedClassTargets(
  op: string,
  input: Tensor,
  target: Tensor,
  weight: Tensor | null | undefined,
  ignoreIndex: number,
  smoothing: number,
): ClassTargets {
  const classes = input.shape[1];
  checkTargetShape(op, input, target);
  const labels = valuesOnHost(op, target, "target");
  const w = weight ? valuesOnHost(op, weight, "weight") : null;
  const data =
    input.dtype === "float64"
      ? new Float64Array(labels.length * classes)
      : new Float32Array(labels.length * classes);
  let divisor = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === ignoreIndex) continue;
    checkLabel(op, input, l, i);
    const wy = w ? w[l] : 1;
    divisor += wy;
    if (smoothing > 0)
      for (let c = 0; c < classes; c++) data[i * classes + c] = (smoothing / classes) * (w ? w[c] : 1);
    data[i * classes + l] += (1 - smoothing) * wy;
  }
  return { probs: tensor(data, [labels.length, classes], { backend: input.backend.name }), divisor };
}

/** Applies the reduction to per-sample losses whose 'mean' divides by `divisor` rather than their count. */
function reduceWeighted(loss: Tensor, reduction: Reduction, op: string, divisor: number): Tensor {
  return reduction === "mean" ? div(sum(loss), divisor) : reduce(loss, reduction, op);
}

function checkIgnoreIndex(op: string, ignoreIndex: number): void {
  if (!Number.isInteger(ignoreIndex))
    throw new Error(`${op}: ignoreIndex must be an integer, got ${ignoreIndex}`);
}

/** Options of `nllLoss` (torch.nn.functional.nll_loss's); `reduction` default "mean". */
export interface NllLossOptions {
  reduction?: Reduction;
  /** Per-class weights [C], as in crossEntropy. */
  weight?: Tensor | null;
  /** Targets equal to this are skipped (default -100). */
  ignoreIndex?: number;
}

/**
 * Negative log-likelihood of class indices given log-probabilities [N, C] (or [N, C, d…] with target [N, d…]).
 */
export function nllLoss(logProbs: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  checkOptionKeys("nllLoss", options, ["reduction", "weight", "ignoreIndex"]);
  checkFloat("nllLoss", logProbs);
  if (logProbs.ndim < 2)
    throw new Error(`nllLoss: input must be [N, C, …], got ${formatShape(logProbs.shape)}`);
  const { weight, ignoreIndex = -100, reduction = "mean" } = options;
  checkClassWeight("nllLoss", weight, logProbs);
  checkIgnoreIndex("nllLoss", ignoreIndex);
  const lp = classesLast(logProbs);
  if (!weight && !hasIgnored("nllLoss", target, ignoreIndex)) {
    const labels = checkLabels("nllLoss", logProbs, target);
    const picked = neg(sum(mul(lp, oneHotLike("nllLoss", labels, logProbs)), 1));
    return reduce(reshape(picked, perSampleShape(logProbs)), reduction, "nllLoss");
  }
  const { probs, divisor } = weightedClassTargets("nllLoss", logProbs, target, weight, ignoreIndex, 0);
  const picked = neg(sum(mul(lp, probs), 1));
  return reduceWeighted(reshape(picked, perSampleShape(logProbs)), reduction, "nllLoss", divisor);
}

/** Whether any class-index target equals ignoreIndex (only then the host-built targets are needed). */
function hasIgnored(op: string, target: Tensor, ignoreIndex: number): boolean {
  return valuesOnHost(op, target, "target").includes(ignoreIndex);
}

interface SoftmaxCrossEntropyAttrs {
  /** False for class-weighted targets, whose rows do not sum to 1. */
  rowsSumToOne: boolean;
}

const rules = {
  /** [rows, classes] logits and target probabilities -> [rows] losses −Σ target·logSoftmax(logits). */
  softmaxCrossEntropy: {
    // The kernel's log-probabilities are what the gradient is made of (softmax = exp(logProbs)).
    forward: ([logits, target], _attrs, save) => {
      const [rows, classes] = logits.shape;
      const b = logits.backend;
      const { loss, logProbs } = b.softmaxCrossEntropy(logits.storage, target.storage, rows, classes);
      save(wrapLike(logits, logProbs, logits.shape));
      return wrapLike(logits, loss, [rows]);
    },
    backward: (g, [logits, target], _y, { rowsSumToOne }, logProbs) => {
      const [rows, classes] = logits.shape;
      const b = logits.backend;
      if (!rowsSumToOne) {
        // Weighted targets: d/dz −Σ t·logSoftmax(z) = softmax(z)·Σt − t (the fused kernel assumes Σt = 1).
        const column = reshape(g, [rows, 1]);
        const gWeighted = sub(mul(exp(logProbs), mul(column, sum(target, 1, true))), mul(target, column));
        const gSoft = target.requiresGrad ? mul(logProbs, neg(column)) : null;
        return [logits.requiresGrad ? gWeighted : null, gSoft];
      }
      const gLogits = logits.requiresGrad
        ? b.softmaxCrossEntropyBackward(logProbs.storage, target.storage, g.storage, rows, classes)
        : null;
      // Soft targets that require grad (e.g. produced by a model): d loss / d target = −logProbs · g.
      const gTarget = target.requiresGrad ? mul(logProbs, neg(reshape(g, [rows, 1]))) : null;
      return [gLogits && wrapLike(logits, gLogits, logits.shape), gTarget];
    },
  } satisfies Rule<SoftmaxCrossEntropyAttrs, Tensor>,
};

const apply = registerRules(rules);

/** The primitives this family records (part of the `Primitive` union, ops/primitives.ts). */
export type LossPrimitive = keyof typeof rules;

/**
 * Softmax cross-entropy between logits [N, C] and either int32 class indices [N] or class probabilities
 * [N, C] (soft targets, e.g. from mixup).
 * @example crossEntropy(model.forward(x), labels, { labelSmoothing: 0.1 })
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  checkOptionKeys("crossEntropy", options, ["reduction", "labelSmoothing", "weight", "ignoreIndex"]);
  checkFloat("crossEntropy", logits);
  if (logits.ndim < 2)
    throw new Error(`crossEntropy: input must be logits [N, C, …], got ${formatShape(logits.shape)}`);
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  const reduction = options.reduction ?? "mean";
  const { weight } = options;
  const ignoreIndex = options.ignoreIndex ?? -100;
  checkClassWeight("crossEntropy", weight, logits);
  checkIgnoreIndex("crossEntropy", ignoreIndex);
  const classes = logits.shape[1];
  let targetProbs: Tensor;
  let divisor: number | null = null;
  if (
    target.dtype !== "int32" &&
    target.ndim === logits.ndim &&
    target.shape.every((d, i) => d === logits.shape[i])
  ) {
    checkCompatible("crossEntropy", logits, target);
    targetProbs = classesLast(target);
    if (eps > 0) targetProbs = add(mul(targetProbs, 1 - eps), eps / classes);
    if (weight) targetProbs = mul(targetProbs, reshape(weight, [1, classes]));
  } else if (weight || hasIgnored("crossEntropy", target, ignoreIndex)) {
    ({ probs: targetProbs, divisor } = weightedClassTargets(
      "crossEntropy",
      logits,
      target,
      weight,
      ignoreIndex,
      eps,
    ));
  } else {
    targetProbs = oneHotLike("crossEntropy", checkLabels("crossEntropy", logits, target), logits);
    if (eps > 0) targetProbs = add(mul(targetProbs, 1 - eps), eps / classes);
  }
  const perSample = reshape(
    apply("softmaxCrossEntropy", [classesLast(logits), targetProbs], {
      rowsSumToOne: !weight && divisor === null,
    }),
    perSampleShape(logits),
  );
  if (divisor !== null) return reduceWeighted(perSample, reduction, "crossEntropy", divisor);
  return reduce(perSample, reduction, "crossEntropy");
}

/** Elementwise losses need float operands of one shape: broadcasting a target is almost always a bug. */
function checkPair(op: string, input: Tensor, target: Tensor): void {
  checkFloat(op, input);
  checkCompatible(op, input, target);
  if (input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(
      `${op}: input ${formatShape(input.shape)} and target ${formatShape(target.shape)} must have the same shape`,
    );
  }
}

/** Mean squared error (L2 loss). */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkOptionKeys("mseLoss", options, ["reduction"]);
  checkPair("mseLoss", input, target);
  return reduce(sub(input, target).square(), options.reduction ?? "mean", "mseLoss");
}

/** Mean absolute error (L1 loss). */
export function l1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkOptionKeys("l1Loss", options, ["reduction"]);
  checkPair("l1Loss", input, target);
  return reduce(abs(sub(input, target)), options.reduction ?? "mean", "l1Loss");
}

/** Binary cross-entropy on logits: max(x,0) - x·t + log(1 + exp(-|x|)), stable for large |x|. */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  options: { reduction?: Reduction } = {},
): Tensor {
  checkOptionKeys("binaryCrossEntropyWithLogits", options, ["reduction"]);
  checkPair("binaryCrossEntropyWithLogits", input, target);
  const loss = add(sub(maximum(input, 0), mul(input, target)), log(add(exp(neg(abs(input))), 1)));
  return reduce(loss, options.reduction ?? "mean", "binaryCrossEntropyWithLogits");
}

/** Options of `multiMarginLoss` (torch.nn.functional.multi_margin_loss's). */
export interface MultiMarginLossOptions {
  /** 1 (default, the hinge) or 2 (squared hinge). */
  p?: 1 | 2;
  /** Default 1. */
  margin?: number;
  /** Per-class weights [C]; a sample's terms are scaled by the weight of its target class. */
  weight?: Tensor | null;
  reduction?: Reduction;
}

/**
 * Multi-class hinge loss (torch.nn.functional.multi_margin_loss; the SVM loss of ConvNetJS and CS231n):
 * loss_i = Σ_{j ≠ y_i} max(0, margin - x[i, y_i] + x[i, j])^p · w[y_i] / C.
 * @param input scores [N, C]
 * @param target int32 class indices [N]
 * @example multiMarginLoss(scores, labels) // scalar
 */
export function multiMarginLoss(input: Tensor, target: Tensor, options: MultiMarginLossOptions = {}): Tensor {
  const op = "multiMarginLoss";
  checkFloat(op, input);
  if (input.ndim !== 2) throw new Error(`${op}: input must be [N, C], got ${formatShape(input.shape)}`);
  const { p = 1, margin = 1, weight, reduction = "mean" } = options;
  if (p !== 1 && p !== 2) throw new Error(`${op}: p must be 1 or 2, got ${JSON.stringify(p)}`);
  if (!Number.isFinite(margin)) throw new Error(`${op}: margin must be a finite number, got ${margin}`);
  checkClassWeight(op, weight, input);
  const labels = checkLabels(op, input, target);
  const classes = input.shape[1];
  const column = reshape(labels, [-1, 1]);
  const picked = gather(input, 1, column);
  let hinge = relu(add(sub(input, picked), margin));
  if (p === 2) hinge = hinge.square();
  // The target's own term (always max(0, margin)) is not part of the sum.
  const others = sub(1, oneHotLike(op, labels, input));
  let perSample = div(sum(mul(hinge, others), 1), classes);
  if (weight) perSample = mul(perSample, gather(weight, 0, labels));
  return reduce(perSample, reduction, op);
}

/** Options of `smoothL1Loss` (torch's `beta` and `reduction`, default "mean"). */
export interface SmoothL1LossOptions {
  /** Where the loss turns from quadratic to linear (default 1); 0 gives the L1 loss. */
  beta?: number;
  reduction?: Reduction;
}

/**
 * Smooth L1 loss (torch.nn.functional.smooth_l1_loss, Fast R-CNN): 0.5·d²/beta where |d| < beta, else
 * |d| - 0.5·beta, with d = input - target.
 */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1LossOptions = {}): Tensor {
  const op = "smoothL1Loss";
  checkPair(op, input, target);
  const { beta = 1, reduction = "mean" } = options;
  if (!(beta >= 0 && Number.isFinite(beta)))
    throw new Error(`${op}: beta must be a non-negative number, got ${beta}`);
  return reduce(smoothL1(sub(input, target), beta), reduction, op);
}

/** Pointwise smooth L1 of the differences d: 0.5·d²/beta inside |d| < beta, |d| - 0.5·beta outside. */
function smoothL1(d: Tensor, beta: number): Tensor {
  const absolute = abs(d);
  if (beta === 0) return absolute;
  return where(compare("lt", absolute, beta), mul(d.square(), 0.5 / beta), sub(absolute, 0.5 * beta));
}

/** Options of `huberLoss` (torch's `delta` and `reduction`, default "mean"). */
export interface HuberLossOptions {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta?: number;
  reduction?: Reduction;
}

/**
 * Huber loss (torch.nn.functional.huber_loss): 0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta);
 * delta times smoothL1Loss with beta = delta.
 */
export function huberLoss(input: Tensor, target: Tensor, options: HuberLossOptions = {}): Tensor {
  const op = "huberLoss";
  checkPair(op, input, target);
  const { delta = 1, reduction = "mean" } = options;
  if (!(delta > 0 && Number.isFinite(delta)))
    throw new Error(`${op}: delta must be a positive number, got ${delta}`);
  return reduce(mul(smoothL1(sub(input, target), delta), delta), reduction, op);
}

/** Options of `klDiv` (torch.nn.functional.kl_div's `reduction` and `log_target`). */
export interface KlDivOptions {
  /** "mean" (default, over all elements, torch's), "batchmean" (sum / N, the true KL divergence), "sum", "none". */
  reduction?: Reduction | "batchmean";
  /** The target is given as log-probabilities. Default false. */
  logTarget?: boolean;
}

/**
 * Kullback-Leibler divergence (torch.nn.functional.kl_div) between the distribution whose LOG-probabilities
 * are `input` and `target` (probabilities, or log-probabilities with logTarget): pointwise
 * target·(log target - input), taken as 0 where target is 0.
 * @example klDiv(logSoftmax(student, 1), softmax(teacher, 1), { reduction: "batchmean" })
 */
export function klDiv(input: Tensor, target: Tensor, options: KlDivOptions = {}): Tensor {
  const op = "klDiv";
  checkPair(op, input, target);
  const { reduction = "mean", logTarget = false } = options;
  if (!["mean", "batchmean", "sum", "none"].includes(reduction)) {
    throw new Error(`${op}: reduction must be 'mean', 'batchmean', 'sum' or 'none', got '${reduction}'`);
  }
  let pointwise: Tensor;
  if (logTarget) pointwise = mul(exp(target), sub(target, input));
  else {
    // log of 1 where the target is 0: the 0·log 0 term is 0 and no NaN reaches the gradient.
    const positive = compare("gt", target, 0);
    pointwise = mul(target, sub(log(where(positive, target, 1)), input));
  }
  if (reduction === "batchmean") return div(sum(pointwise), input.ndim > 0 ? input.shape[0] : 1);
  return reduce(pointwise, reduction, op);
}
