// Batch normalisation (training statistics with torch's running-stat update, or eval with running stats),
// local response normalisation across channels (torch's definition, as in AlexNet), and the per-sample
// normalisations layer norm, group norm and ConvNeXt's channels-first layer norm (composites).

import type { BatchNormGeometry } from "../backend/backend.js";
import { registerRules, type Rule } from "../autograd/primitive.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape, sizeOf } from "../tensor/shape.js";
import { noGrad } from "../autograd/engine.js";
import { add, div, mul, pow, sqrt, sub } from "./elementwise.js";
import { mean, sum } from "./reduce.js";
import { pad, reshape, slice } from "./movement.js";
import { checkCompatible, checkFloat, checkNumber, checkOptionKeys, wrapLike } from "./util.js";

/**
 * Options of `batchNorm` (torch.nn.functional.batch_norm's): affine `weight`/`bias` [C] (none by default),
 * running statistics (none by default), `training` (default true: batch statistics, updating the running
 * ones; false uses the running ones), `momentum` (default 0.1), `eps` (default 1e-5).
 */
export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Updated in place of the caller's references: the new tensors are returned in `BatchNormResult`. */
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/** What `batchNorm` returns: the output and the running statistics after the call. */
export interface BatchNormResult {
  output: Tensor;
  /** Running statistics after this call (unchanged in eval). */
  runningMean: Tensor | null;
  runningVar: Tensor | null;
}

interface BatchNormAttrs {
  geometry: BatchNormGeometry;
  eps: number;
  /**
   * Whether the statistics come from this batch (so that their gradient flows back into dx) or, in eval,
   * from `running`, the [C] running mean and (biased-estimate) variance.
   */
  training: boolean;
  running: { mean: Tensor; variance: Tensor } | null;
  hasWeight: boolean;
  hasBias: boolean;
}

/** The [C] statistics the output was normalised with; `variance` is the batch's (null in eval). */
interface BatchNormStats {
  mean: Tensor;
  invStd: Tensor;
  variance: Tensor | null;
}

/** The optional weight and bias among a batchNorm primitive's inputs [x, weight?, bias?]. */
function affineInputs(inputs: readonly Tensor[], a: BatchNormAttrs) {
  return {
    weight: a.hasWeight ? inputs[1] : null,
    bias: a.hasBias ? inputs[a.hasWeight ? 2 : 1] : null,
  };
}

// One primitive with fused kernels (like torch's native batch norm): the composite of ~10 elementwise and
// reduction ops allocated a full-size tensor per step, forward and backward.
const rules = {
  batchNorm: {
    forward: (inputs, a, save) => {
      const x = inputs[0];
      const { weight, bias } = affineInputs(inputs, a);
      const stats = statistics(x, a);
      save(stats);
      const y = x.backend.batchNormForward(
        x.storage,
        stats.mean.storage,
        stats.invStd.storage,
        weight?.storage ?? null,
        bias?.storage ?? null,
        a.geometry,
      );
      return wrapLike(x, y, x.shape);
    },
    backward: (g, inputs, _y, a, { mean, invStd }) => {
      const x = inputs[0];
      const { weight } = affineInputs(inputs, a);
      const grads = x.backend.batchNormBackward(
        g.storage,
        x.storage,
        mean.storage,
        invStd.storage,
        weight?.storage ?? null,
        a.training,
        a.geometry,
      );
      const channels = [a.geometry.channels];
      return [
        wrapLike(x, grads.dx, x.shape),
        ...(a.hasWeight ? [wrapLike(x, grads.dWeight, channels)] : []),
        ...(a.hasBias ? [wrapLike(x, grads.dBias, channels)] : []),
      ];
    },
  } satisfies Rule<BatchNormAttrs, BatchNormStats>,
};

/** The batch's statistics (training) or the running ones (eval); not differentiated: the fused backward
 * carries their gradient. */
function statistics(x: Tensor, a: BatchNormAttrs): BatchNormStats {
  return noGrad(() => {
    if (a.running) {
      return { mean: a.running.mean.detach(), invStd: inverseStd(a.running.variance, a.eps), variance: null };
    }
    const batch = x.backend.batchNormStats(x.storage, a.geometry);
    const variance = wrapLike(x, batch.variance, [a.geometry.channels]);
    return {
      mean: wrapLike(x, batch.mean, [a.geometry.channels]),
      invStd: inverseStd(variance, a.eps),
      variance,
    };
  });
}

const apply = registerRules(rules);

/** The primitives this family records (part of the `Primitive` union, ops/primitives.ts). */
export type NormalizationPrimitive = keyof typeof rules;

function checkChannelVector(name: string, v: Tensor | null | undefined, channels: number, x: Tensor): void {
  if (v && (v.ndim !== 1 || v.shape[0] !== channels)) {
    throw new Error(
      `batchNorm: ${name} ${formatShape(v.shape)} does not match the ${channels} channels of input ${formatShape(x.shape)}`,
    );
  }
}

/** 1/sqrt(variance + eps), once per channel. */
function inverseStd(variance: Tensor, eps: number): Tensor {
  return div(1, sqrt(add(variance, eps)));
}

/**
 * Batch normalisation over dim 1 of [N, C] or [N, C, H, W]. In training it normalises with the biased batch
 * variance and moves the running stats by `momentum` (running var uses the unbiased batch variance), as torch.
 */
export function batchNormWithStats(x: Tensor, options: BatchNormOptions = {}): BatchNormResult {
  checkFloat("batchNorm", x);
  checkOptionKeys("batchNorm", options, [
    "weight",
    "bias",
    "runningMean",
    "runningVar",
    "training",
    "momentum",
    "eps",
  ]);
  if (x.ndim < 2) throw new Error(`batchNorm: input must be [N, C, …], got ${formatShape(x.shape)}`);
  const channels = x.shape[1];
  const { weight, bias, runningMean, runningVar } = options;
  for (const [name, v] of [
    ["weight", weight],
    ["bias", bias],
    ["runningMean", runningMean],
    ["runningVar", runningVar],
  ] as const) {
    checkChannelVector(name, v, channels, x);
    if (v) checkCompatible("batchNorm", x, v);
  }
  const training = options.training ?? true;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  const geometry: BatchNormGeometry = { batch: x.shape[0], channels, spatial: sizeOf(x.shape.slice(2)) };
  const count = x.size / channels;
  if (training && count <= 1) {
    throw new Error(
      `batchNorm: expected more than 1 value per channel when training, got input ${formatShape(x.shape)}`,
    );
  }
  if (!training && (!runningMean || !runningVar))
    throw new Error("batchNorm: eval mode needs runningMean and runningVar");
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const { output, saved } = apply.withSaved("batchNorm", inputs, {
    geometry,
    eps,
    training,
    running: training ? null : { mean: runningMean!, variance: runningVar! },
    hasWeight: !!weight,
    hasBias: !!bias,
  });
  if (!training) return { output, runningMean: runningMean ?? null, runningVar: runningVar ?? null };
  // torch's update: the running variance moves towards the unbiased batch variance.
  const batchVariance = saved.variance!;
  return noGrad(() => ({
    output,
    runningMean: runningMean ? add(mul(runningMean, 1 - momentum), mul(saved.mean, momentum)) : null,
    runningVar: runningVar
      ? add(mul(runningVar, 1 - momentum), mul(batchVariance, (momentum * count) / (count - 1)))
      : null,
  }));
}

/** batchNormWithStats, returning only the output (like torch.nn.functional.batch_norm without buffers). */
export function batchNorm(x: Tensor, options: BatchNormOptions = {}): Tensor {
  return batchNormWithStats(x, options).output;
}

/** Largest LRN window: the op adds `size` shifted slices, and real nets use 3 to 9. */
export const MAX_LRN_SIZE = 4096;

/**
 * Options of `localResponseNorm` (torch's): `alpha` (default 1e-4), `beta` (default 0.75), `k` (default 1).
 */
export interface LocalResponseNormOptions {
  alpha?: number;
  beta?: number;
  k?: number;
}

/**
 * Local response normalisation across channels (torch's definition, which divides alpha by size):
 * y_c = x_c / (k + alpha/size · Σ_{c'} x_{c'}²)^beta over c' in [c - ⌊size/2⌋, c + ⌊(size-1)/2⌋].
 */
export function localResponseNorm(x: Tensor, size: number, options: LocalResponseNormOptions = {}): Tensor {
  checkFloat("localResponseNorm", x);
  if (x.ndim < 3)
    throw new Error(
      `localResponseNorm: input must be [N, C, …] with spatial dims, got ${formatShape(x.shape)}`,
    );
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`localResponseNorm: size must be a positive integer, got ${size}`);
  checkNumber("localResponseNorm", "size", size, { integer: true, min: 1, max: MAX_LRN_SIZE });
  checkOptionKeys("localResponseNorm", options, ["alpha", "beta", "k"]);
  const { alpha = 1e-4, beta = 0.75, k = 1 } = options;
  for (const [key, v] of Object.entries({ alpha, beta, k })) checkNumber("localResponseNorm", key, v);
  const channels = x.shape[1];
  const before = Math.floor(size / 2);
  const after = Math.floor((size - 1) / 2);
  // Pad the channel axis with zeros and add `size` shifted slices: the windowed sum of squares.
  const widths = new Array<number>(2 * (x.ndim - 2)).fill(0);
  const padded = pad(x.square(), [...widths, before, after]);
  let windowSum = slice(padded, 1, 0, channels);
  for (let i = 1; i < size; i++) windowSum = add(windowSum, slice(padded, 1, i, i + channels));
  const denominator = pow(add(mul(windowSum, alpha / size), k), beta);
  return div(x, denominator);
}

/** λ/2 · Σ w² over the given weights: the L2 weight-regularisation term of the notes. */
export function l2Penalty(weights: readonly Tensor[], lambda: number): Tensor {
  if (weights.length === 0) throw new Error("l2Penalty: no weights given");
  let total = sum(weights[0].square());
  for (const w of weights.slice(1)) total = add(total, sum(w.square()));
  return mul(total, lambda / 2);
}

/** Options of `layerNorm` (torch.nn.functional.layer_norm's `weight`, `bias` and `eps`). */
export interface LayerNormOptions {
  /** Elementwise scale of normalizedShape (torch's weight); none by default. */
  weight?: Tensor | null;
  /** Elementwise shift of normalizedShape; none by default. */
  bias?: Tensor | null;
  /** Added to the variance. Default 1e-5. */
  eps?: number;
}

/** (x - mean)/sqrt(biased variance + eps) over `axes`, as one composite. */
function normalizeOver(x: Tensor, axes: readonly number[], eps: number): Tensor {
  const centered = sub(x, mean(x, axes, true));
  const variance = mean(centered.square(), axes, true);
  return div(centered, sqrt(add(variance, eps)));
}

function checkEps(op: string, eps: number): void {
  if (!(typeof eps === "number" && eps >= 0))
    throw new Error(`${op}: eps must be a non-negative number, got ${eps}`);
}

function checkAffine(
  op: string,
  name: string,
  v: Tensor | null | undefined,
  shape: readonly number[],
  x: Tensor,
) {
  if (!v) return;
  checkCompatible(op, x, v);
  if (v.ndim !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
    throw new Error(
      `${op}: ${name} ${formatShape(v.shape)} must have shape ${formatShape(shape)} for input ${formatShape(x.shape)}`,
    );
  }
}

/**
 * Layer normalisation (Ba et al. 2016, torch.nn.functional.layer_norm): each sample is normalised over its
 * last dims `normalizedShape` with its own mean and biased variance, then scaled and shifted elementwise.
 * @param normalizedShape the trailing dims of x, e.g. [C] for [N, L, C] or [C, H, W] for [N, C, H, W]
 * @example layerNorm(x, [768], { weight, bias }) // x [N, L, 768]
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  options: LayerNormOptions = {},
): Tensor {
  const op = "layerNorm";
  checkFloat(op, x);
  const k = normalizedShape.length;
  const trailing = x.shape.slice(x.ndim - k);
  if (k === 0 || k > x.ndim || trailing.some((d, i) => d !== normalizedShape[i])) {
    throw new Error(
      `${op}: normalizedShape ${formatShape(normalizedShape)} must be the trailing dims of input ${formatShape(x.shape)}`,
    );
  }
  const { weight, bias, eps = 1e-5 } = options;
  checkEps(op, eps);
  checkAffine(op, "weight", weight, normalizedShape, x);
  checkAffine(op, "bias", bias, normalizedShape, x);
  const axes = normalizedShape.map((_, i) => x.ndim - k + i);
  let y = normalizeOver(x, axes, eps);
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/** A [C] vector reshaped to broadcast along dim 1 of x: [C, 1, …]. */
function perChannel(v: Tensor, x: Tensor): Tensor {
  return reshape(v, [x.shape[1], ...x.shape.slice(2).map(() => 1)]);
}

/**
 * Group normalisation (Wu & He 2018, torch.nn.functional.group_norm): the C channels of each sample are
 * split into `numGroups` groups, each normalised over its channels and spatial positions, then a
 * per-channel scale and shift. One group is layer norm over [C, H, W]; C groups is instance norm.
 * @param x [N, C, …]
 * @example groupNorm(x, 32, { weight, bias }) // x [N, 256, H, W], weight and bias [256]
 */
export function groupNorm(x: Tensor, numGroups: number, options: LayerNormOptions = {}): Tensor {
  const op = "groupNorm";
  checkFloat(op, x);
  if (x.ndim < 2) throw new Error(`${op}: input must be [N, C, …], got ${formatShape(x.shape)}`);
  const [n, channels] = x.shape;
  if (!Number.isInteger(numGroups) || numGroups < 1 || channels % numGroups !== 0) {
    throw new Error(
      `${op}: numGroups=${numGroups} must divide the ${channels} channels of input ${formatShape(x.shape)}`,
    );
  }
  const { weight, bias, eps = 1e-5 } = options;
  checkEps(op, eps);
  checkAffine(op, "weight", weight, [channels], x);
  checkAffine(op, "bias", bias, [channels], x);
  const grouped = reshape(x, [n, numGroups, -1]);
  let y = reshape(normalizeOver(grouped, [2], eps), x.shape);
  if (weight) y = mul(y, perChannel(weight, x));
  if (bias) y = add(y, perChannel(bias, x));
  return y;
}

/**
 * Layer normalisation over the channels of channels-first input, as torchvision's ConvNeXt LayerNorm2d
 * (which permutes [N, C, H, W] to channels-last, applies layer_norm over C and permutes back): every pixel
 * is normalised across its C channels, then a per-channel scale and shift.
 * @param x [N, C, H, W] (any [N, C, …])
 * @example layerNorm2d(x, { weight, bias, eps: 1e-6 }) // weight, bias [C]
 */
export function layerNorm2d(x: Tensor, options: LayerNormOptions = {}): Tensor {
  const op = "layerNorm2d";
  checkFloat(op, x);
  if (x.ndim < 2) throw new Error(`${op}: input must be [N, C, …], got ${formatShape(x.shape)}`);
  const { weight, bias, eps = 1e-5 } = options;
  checkEps(op, eps);
  checkAffine(op, "weight", weight, [x.shape[1]], x);
  checkAffine(op, "bias", bias, [x.shape[1]], x);
  let y = normalizeOver(x, [1], eps);
  if (weight) y = mul(y, perChannel(weight, x));
  if (bias) y = add(y, perChannel(bias, x));
  return y;
}
