// Adversarial examples: images changed by an imperceptible, deliberately chosen perturbation that the model
// misclassifies. FGSM (Goodfellow, Shlens & Szegedy 2015, "Explaining and harnessing adversarial
// examples") takes one step of size eps along the sign of the loss gradient; PGD (Madry et al. 2018,
// "Towards deep learning models resistant to adversarial attacks") takes many smaller steps, projecting back
// into the eps-ball around the image after each. Semantics follow torchattacks: the loss is the
// cross-entropy of the labels (summed over the batch, so each image gets its own gradient), targeted attacks
// descend the loss of the target class, and images are clamped to the valid pixel range.
//
// The update arithmetic runs on the gradient's typed array: it is elementwise, not differentiated, and
// sign() has no op of its own.

import type { Module } from "../nn/module.js";
import { Tensor, tensor } from "../tensor/tensor.js";
import { Rng, globalRng } from "../tensor/rng.js";
import { noGrad } from "../autograd/engine.js";
import { crossEntropy } from "../ops/losses.js";
import type { BatchSource } from "../train/fit.js";
import { checkImageBatch, classIndices, inputGradient, logitsOf } from "./model-calls.js";

/** Options of {@link fgsm}. */
export interface FgsmOptions {
  /** Size of the step along sign(gradient), in pixel units (0.25 moves every pixel by a quarter). */
  eps: number;
  /** Valid pixel range the result is clamped to; default [0, 1]; null leaves it unclamped. */
  clamp?: readonly [number, number] | null;
  /** Move towards `labels` (descend their loss) instead of away from them. Default false. */
  targeted?: boolean;
}

/** Options of {@link pgd}. */
export interface PgdOptions extends FgsmOptions {
  /** Step size of each iteration (for norm "2", the L2 length of each step). */
  alpha: number;
  /** Number of iterations. */
  steps: number;
  /** The ball the perturbation stays in: "inf" (max |delta| <= eps, default) or "2" (||delta||_2 <= eps per image). */
  norm?: "inf" | "2";
  /** Start from a random point of the eps-ball instead of x (Madry et al.). Default false. */
  randomStart?: boolean;
  /** Seed of the random start; drawn from the global generator when omitted. */
  seed?: number;
}

/** An attack as adversarialAccuracy takes it: a batch and its labels to the adversarial batch. */
export type Attack = (model: Module, x: Tensor, labels: Tensor) => Tensor;

function checkAttack(caller: string, x: Tensor, options: FgsmOptions): void {
  checkImageBatch(x, caller);
  if (!(Number.isFinite(options.eps) && options.eps >= 0))
    throw new Error(`${caller}: eps must be a finite number ≥ 0, got ${options.eps}`);
  const range = options.clamp;
  if (range && !(range.length === 2 && range[0] <= range[1]))
    throw new Error(`${caller}: clamp must be [min, max] with min ≤ max, got [${range.join(", ")}]`);
}

/** dL/dx of the summed cross-entropy of `labels`, with the labels checked against the model's classes. */
function lossGradient(model: Module, x: Tensor, labels: Tensor, caller: string): Float32Array {
  const n = x.shape[0];
  return inputGradient(
    model,
    x,
    (logits) => {
      const k = logits.shape[1];
      const classes = classIndices(labels, n, k, caller);
      const target = tensor(classes, [n], { backend: logits.backend.name });
      return crossEntropy(logits, target, { reduction: "sum" });
    },
    caller,
  ).grad;
}

function clampInPlace(values: Float32Array, range: readonly [number, number] | null | undefined): void {
  if (!range) return;
  for (let i = 0; i < values.length; i++) values[i] = Math.min(range[1], Math.max(range[0], values[i]));
}

const clampOf = (options: FgsmOptions): readonly [number, number] | null =>
  options.clamp === undefined ? [0, 1] : options.clamp;

/**
 * Fast gradient sign method: x' = clamp(x + eps · sign(dL/dx)), L = cross-entropy of `labels` (for a
 * targeted attack x - eps · sign(dL/dx), moving towards the target labels).
 * @param x images [N, C, H, W]
 * @param labels class indices [N] int32 (the true classes, or the targets when `targeted`)
 * @returns the adversarial batch [N, C, H, W], not requiring gradients
 * @example const adv = fgsm(model, x, y, { eps: 0.25 }); // torchattacks.FGSM(model, eps=0.25)(x, y)
 */
export function fgsm(model: Module, x: Tensor, labels: Tensor, options: FgsmOptions): Tensor {
  checkAttack("fgsm", x, options);
  const grad = lossGradient(model, x, labels, "fgsm");
  const out = Float32Array.from(x.toArray());
  const step = options.targeted ? -options.eps : options.eps;
  for (let i = 0; i < out.length; i++) out[i] += step * Math.sign(grad[i]);
  clampInPlace(out, clampOf(options));
  return tensor(out, x.shape, { backend: x.backend.name });
}

/** Per-image L2 norms of a flat [N, D] array. */
function rowNorms(values: Float32Array, n: number): Float64Array {
  const d = values.length / n;
  const norms = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let i = b * d; i < (b + 1) * d; i++) s += values[i] * values[i];
    norms[b] = Math.sqrt(s);
  }
  return norms;
}

/** A random point of the eps-ball: uniform per element for L-inf; for L2 a random direction times eps·U(0,1). */
function randomStartDelta(size: number, n: number, eps: number, norm: "inf" | "2", rng: Rng): Float32Array {
  const delta = new Float32Array(size);
  if (norm === "inf") {
    for (let i = 0; i < size; i++) delta[i] = (2 * rng.uniform() - 1) * eps;
    return delta;
  }
  for (let i = 0; i < size; i++) delta[i] = rng.normal();
  const norms = rowNorms(delta, n);
  const d = size / n;
  for (let b = 0; b < n; b++) {
    const scale = (rng.uniform() * eps) / (norms[b] || 1);
    for (let i = b * d; i < (b + 1) * d; i++) delta[i] *= scale;
  }
  return delta;
}

/** Moves adv one step along the gradient: sign for L-inf, the per-image unit gradient for L2. */
function ascend(adv: Float32Array, grad: Float32Array, n: number, alpha: number, norm: "inf" | "2"): void {
  if (norm === "inf") {
    for (let i = 0; i < adv.length; i++) adv[i] += alpha * Math.sign(grad[i]);
    return;
  }
  const norms = rowNorms(grad, n);
  const d = adv.length / n;
  for (let b = 0; b < n; b++) {
    const scale = alpha / (norms[b] + 1e-10);
    for (let i = b * d; i < (b + 1) * d; i++) adv[i] += scale * grad[i];
  }
}

/** Projects adv onto the eps-ball around x (elementwise for L-inf, per image for L2). */
function project(
  adv: Float32Array,
  x: Float32Array | Float64Array,
  n: number,
  eps: number,
  norm: "inf" | "2",
): void {
  if (norm === "inf") {
    for (let i = 0; i < adv.length; i++) adv[i] = Math.min(x[i] + eps, Math.max(x[i] - eps, adv[i]));
    return;
  }
  const delta = new Float32Array(adv.length);
  for (let i = 0; i < adv.length; i++) delta[i] = adv[i] - x[i];
  const norms = rowNorms(delta, n);
  const d = adv.length / n;
  for (let b = 0; b < n; b++) {
    const factor = Math.min(1, eps / (norms[b] + 1e-12));
    for (let i = b * d; i < (b + 1) * d; i++) adv[i] = x[i] + delta[i] * factor;
  }
}

/**
 * Projected gradient descent (Madry et al. 2018): `steps` iterations of x' ← clamp(project(x' + alpha ·
 * direction)), where direction is sign(dL/dx') for norm "inf" and dL/dx' / ||dL/dx'||_2 for norm "2", and
 * project keeps x' - x inside the eps-ball. With `randomStart` the first x' is a random point of the ball.
 * @param x images [N, C, H, W]
 * @param labels class indices [N] int32 (targets when `targeted`)
 * @returns the adversarial batch [N, C, H, W]
 * @example const adv = pgd(model, x, y, { eps: 0.3, alpha: 0.01, steps: 40, randomStart: true });
 */
export function pgd(model: Module, x: Tensor, labels: Tensor, options: PgdOptions): Tensor {
  checkAttack("pgd", x, options);
  const norm = options.norm ?? "inf";
  if (norm !== "inf" && norm !== "2")
    throw new Error(`pgd: norm must be "inf" or "2", got '${String(norm)}'`);
  if (!(Number.isFinite(options.alpha) && options.alpha > 0))
    throw new Error(`pgd: alpha must be a finite number > 0, got ${options.alpha}`);
  if (!(Number.isInteger(options.steps) && options.steps >= 1))
    throw new Error(`pgd: steps must be an integer ≥ 1, got ${options.steps}`);
  const n = x.shape[0];
  const original = x.toArray() as Float32Array;
  const range = clampOf(options);
  const adv = Float32Array.from(original);
  if (options.randomStart) {
    const rng = new Rng(options.seed ?? Math.floor(globalRng.uniform() * 2 ** 31));
    const delta = randomStartDelta(adv.length, n, options.eps, norm, rng);
    for (let i = 0; i < adv.length; i++) adv[i] += delta[i];
    clampInPlace(adv, range);
  }
  const alpha = options.targeted ? -options.alpha : options.alpha;
  for (let step = 0; step < options.steps; step++) {
    const current = tensor(adv, x.shape, { backend: x.backend.name });
    const grad = lossGradient(model, current, labels, "pgd");
    ascend(adv, grad, n, alpha, norm);
    project(adv, original, n, options.eps, norm);
    clampInPlace(adv, range);
  }
  return tensor(Float32Array.from(adv), x.shape, { backend: x.backend.name });
}

/** Clean and adversarial accuracy over a dataset; see {@link adversarialAccuracy}. */
export interface AdversarialAccuracy {
  /** Fraction of images classified correctly as they are. */
  clean: number;
  /** Fraction classified correctly after the attack. */
  adversarial: number;
  /** Images evaluated. */
  count: number;
}

function correctCount(model: Module, x: Tensor, labels: Int32Array): number {
  const logits = noGrad(() => logitsOf(model, x, "adversarialAccuracy"));
  const predicted = logits.argmax(1).toArray();
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct;
}

/**
 * Accuracy of `model` on every batch of `loader` before and after `attack` (in eval mode; the previous mode
 * is restored). Every image is attacked, also those already misclassified, as torchattacks does.
 * @example
 * const { clean, adversarial } = await adversarialAccuracy(model, testLoader,
 *   (m, x, y) => pgd(m, x, y, { eps: 0.3, alpha: 0.01, steps: 40 }));
 */
export async function adversarialAccuracy(
  model: Module,
  loader: BatchSource,
  attack: Attack,
): Promise<AdversarialAccuracy> {
  const wasTraining = model.training;
  model.eval();
  let count = 0;
  let clean = 0;
  let adversarial = 0;
  try {
    for await (const { x, y } of loader as AsyncIterable<{ x: Tensor; y: Tensor }>) {
      if (y.ndim !== 1)
        throw new Error(`adversarialAccuracy: the loader must yield class labels [N], got soft targets`);
      const labels = Int32Array.from(y.toArray());
      clean += correctCount(model, x, labels);
      adversarial += correctCount(model, attack(model, x, y), labels);
      count += labels.length;
    }
  } finally {
    model.train(wasTraining);
  }
  return {
    clean: count ? clean / count : Number.NaN,
    adversarial: count ? adversarial / count : Number.NaN,
    count,
  };
}
