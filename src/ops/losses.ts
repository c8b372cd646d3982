// Loss functions with torch's reductions: cross-entropy (class indices or probability targets, label
// smoothing), negative log-likelihood, mean squared error and binary cross-entropy with logits.
// Cross-entropy is one primitive over [rows, classes] (the backend's fused softmax cross-entropy); the
// others are composites.

import { registerRules, type Rule } from "../autograd/primitive.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { abs, exp, log, maximum, mul, neg, sub, add } from "./elementwise.js";
import { mean, sum } from "./reduce.js";
import { checkCompatible, checkFloat, checkOptionKeys, wrapLike } from "./util.js";
import { cast } from "./elementwise.js";
import { reshape, permute } from "./movement.js";

export type Reduction = "mean" | "sum" | "none";

export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** eps: loss = (1 - eps)·nll + eps·mean_c(-logSoftmax). */
  labelSmoothing?: number;
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

function checkLabels(op: string, input: Tensor, target: Tensor): Tensor {
  const [n, classes] = input.shape;
  const expected = [n, ...input.shape.slice(2)];
  if (target.ndim !== expected.length || target.shape.some((d, i) => d !== expected[i])) {
    throw new Error(
      `${op}: target ${formatShape(target.shape)} does not match input ${formatShape(input.shape)}; expected ${formatShape(expected)}`,
    );
  }
  const labels = target.toArray();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= classes) {
      throw new Error(
        `${op}: label ${l} at position ${i} is out of range for ${classes} classes (input ${formatShape(input.shape)})`,
      );
    }
  }
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

/**
 * Negative log-likelihood of class indices given log-probabilities [N, C] (or [N, C, d…] with target [N, d…]).
 */
export function nllLoss(logProbs: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkOptionKeys("nllLoss", options, ["reduction"]);
  checkFloat("nllLoss", logProbs);
  if (logProbs.ndim < 2)
    throw new Error(`nllLoss: input must be [N, C, …], got ${formatShape(logProbs.shape)}`);
  const labels = checkLabels("nllLoss", logProbs, target);
  const lp = classesLast(logProbs);
  const picked = neg(sum(mul(lp, oneHotLike("nllLoss", labels, logProbs)), 1));
  return reduce(reshape(picked, perSampleShape(logProbs)), options.reduction ?? "mean", "nllLoss");
}

/** Log-probabilities of each cross-entropy output, saved by the forward for the backward; weak like the output. */
const savedLogProbs = new WeakMap<Tensor, Tensor>();

const rules = {
  /** [rows, classes] logits and target probabilities -> [rows] losses −Σ target·logSoftmax(logits). */
  softmaxCrossEntropy: {
    forward: ([logits, target]) => {
      const [rows, classes] = logits.shape;
      const b = logits.backend;
      const { loss, logProbs } = b.softmaxCrossEntropy(logits.storage, target.storage, rows, classes);
      const out = wrapLike(logits, loss, [rows]);
      savedLogProbs.set(out, wrapLike(logits, logProbs, logits.shape));
      return out;
    },
    backward: (g, [logits, target], y) => {
      const logProbs = savedLogProbs.get(y)!;
      const [rows, classes] = logits.shape;
      const b = logits.backend;
      const gLogits = logits.requiresGrad
        ? b.softmaxCrossEntropyBackward(logProbs.storage, target.storage, g.storage, rows, classes)
        : null;
      // Soft targets that require grad (e.g. produced by a model): d loss / d target = −logProbs · g.
      const gTarget = target.requiresGrad ? mul(logProbs, neg(reshape(g, [rows, 1]))) : null;
      return [gLogits && wrapLike(logits, gLogits, logits.shape), gTarget];
    },
  } satisfies Rule<void>,
};

const apply = registerRules(rules);

/**
 * Softmax cross-entropy between logits [N, C] and either int32 class indices [N] or class probabilities
 * [N, C] (soft targets, e.g. from mixup).
 * @example crossEntropy(model.forward(x), labels, { labelSmoothing: 0.1 })
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  for (const key of ["weight", "ignoreIndex"]) {
    if ((options as Record<string, unknown>)[key] !== undefined)
      throw new Error(`crossEntropy: option '${key}' is not implemented yet; remove it`);
  }
  checkOptionKeys("crossEntropy", options, ["reduction", "labelSmoothing"]);
  checkFloat("crossEntropy", logits);
  if (logits.ndim < 2)
    throw new Error(`crossEntropy: input must be logits [N, C, …], got ${formatShape(logits.shape)}`);
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  const reduction = options.reduction ?? "mean";
  const classes = logits.shape[1];
  let targetProbs: Tensor;
  if (
    target.dtype !== "int32" &&
    target.ndim === logits.ndim &&
    target.shape.every((d, i) => d === logits.shape[i])
  ) {
    checkCompatible("crossEntropy", logits, target);
    targetProbs = classesLast(target);
  } else {
    targetProbs = oneHotLike("crossEntropy", checkLabels("crossEntropy", logits, target), logits);
  }
  if (eps > 0) targetProbs = add(mul(targetProbs, 1 - eps), eps / classes);
  const perSample = apply("softmaxCrossEntropy", [classesLast(logits), targetProbs], undefined);
  return reduce(reshape(perSample, perSampleShape(logits)), reduction, "crossEntropy");
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
