// Inverted dropout: in training, zero each element with probability p and scale survivors by 1/(1-p), so
// that evaluation is the identity. The original "mean network" form (Hinton et al. 2012) is an option:
// survivors keep their value in training and evaluation multiplies by 1 - p.

import type { Tensor } from "../tensor/tensor.js";
import { tensor } from "../tensor/tensor.js";
import { globalRng, type Rng } from "../tensor/rng.js";
import { mul } from "./elementwise.js";
import { checkFloat, checkOptionKeys } from "./util.js";

/**
 * Options of `dropout` and `dropout2d`: `training` (default true, as torch's functional form; false returns
 * x), the generator `rng` (default the global one) and the "mean network" variant.
 */
export interface DropoutOptions {
  training?: boolean;
  rng?: Rng;
  /**
   * The "mean network" variant: no scaling in training, outputs multiplied by 1 - p in evaluation (the
   * expected value of the training-time output). Default false (inverted dropout, torch's).
   */
  scaleAtTest?: boolean;
}

/**
 * Zeroes each element with probability p in training (torch.nn.functional.dropout). Survivors are scaled
 * by 1/(1-p) and evaluation is the identity; with `scaleAtTest` survivors keep their value and evaluation
 * multiplies by 1 - p instead.
 */
export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  checkFloat("dropout", x);
  checkOptionKeys("dropout", options, ["training", "rng", "scaleAtTest"]);
  if (!(typeof p === "number" && p >= 0 && p <= 1))
    throw new Error(`dropout: probability p must be in [0, 1], got ${p}`);
  const scaleAtTest = options.scaleAtTest ?? false;
  if (options.training === false) return scaleAtTest && p > 0 ? mul(x, 1 - p) : x;
  if (p === 0) return x;
  if (p === 1) return mul(x, 0);
  const rng = options.rng ?? globalRng;
  const scale = scaleAtTest ? 1 : 1 / (1 - p);
  const mask = x.dtype === "float64" ? new Float64Array(x.size) : new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() >= p ? scale : 0;
  return mul(x, tensor(mask, x.shape, { backend: x.backend.name }));
}

/**
 * Options of `stochasticDepth` (torchvision.ops.stochastic_depth's `mode` and `training`, and the generator
 * `rng`).
 */
export interface StochasticDepthOptions {
  /** "row" (default): drop each sample's whole residual branch independently; "batch": all or none. */
  mode?: "row" | "batch";
  /** Default true; false returns x. */
  training?: boolean;
  rng?: Rng;
}

/**
 * Stochastic depth (Huang et al. 2016; torchvision.ops.stochastic_depth): in training, zeroes the input
 * — a residual branch, before it is added to the shortcut — with probability p per sample ("row") or for
 * the whole batch ("batch"), scaling survivors by 1/(1-p). The identity in eval or with p = 0.
 * @example x.add(stochasticDepth(branch(x), 0.1, { training: this.training }))
 */
export function stochasticDepth(x: Tensor, p: number, options: StochasticDepthOptions = {}): Tensor {
  checkFloat("stochasticDepth", x);
  if (!(p >= 0 && p <= 1)) throw new Error(`stochasticDepth: drop probability p must be in [0, 1], got ${p}`);
  const mode = options.mode ?? "row";
  if (mode !== "row" && mode !== "batch") {
    throw new Error(`stochasticDepth: mode must be 'row' or 'batch', got ${JSON.stringify(mode)}`);
  }
  if (options.training === false || p === 0) return x;
  const rng = options.rng ?? globalRng;
  const survival = 1 - p;
  const shape =
    mode === "row" && x.ndim > 0 ? [x.shape[0], ...x.shape.slice(1).map(() => 1)] : x.shape.map(() => 1);
  const count = shape.reduce((a, b) => a * b, 1);
  const noise = x.dtype === "float64" ? new Float64Array(count) : new Float32Array(count);
  for (let i = 0; i < count; i++) noise[i] = rng.uniform() < survival ? (survival > 0 ? 1 / survival : 0) : 0;
  return mul(x, tensor(noise, shape, { backend: x.backend.name }));
}
