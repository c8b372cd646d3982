// Dropout layers (torch.nn.Dropout, Dropout2d): inverted dropout that is active in training mode and the
// identity in eval mode, so a trained model needs no rescaling at inference. Randomness comes from the
// global generator (seed it with manualSeed) unless a generator is passed.

import { tensor, type Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { globalRng, type Rng } from "../tensor/rng.js";
import { dropout, stochasticDepth } from "../ops/dropout.js";
import { mul } from "../ops/elementwise.js";
import { Module } from "./module.js";
import { checkOptionKeys } from "../ops/util.js";

/** Options every dropout layer takes. */
export interface DropoutLayerOptions {
  /** Generator for the masks; the global one (manualSeed) by default. */
  rng?: Rng;
}

/** Options of `Dropout` and `Dropout2d`. */
export interface DropoutOptionsWithVariant extends DropoutLayerOptions {
  /**
   * The "mean network" of Hinton et al. 2012: survivors are not scaled in training, and eval multiplies
   * the input by 1 - p. Default false (inverted dropout: identity in eval).
   */
  scaleAtTest?: boolean;
}

function checkProbability(layer: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new Error(`${layer}: probability p must be in [0, 1], got ${p}`);
}

/**
 * Zeroes each element with probability p in training and scales the survivors by 1/(1-p), so the expected
 * activation is unchanged (Srivastava et al. 2014, inverted form); the identity after `eval()`.
 * @example
 * const drop = new Dropout(0.5);
 * drop.forward(x); // training: about half of x zeroed, the rest doubled
 * drop.eval().forward(x); // returns x
 * new Dropout(0.5, { scaleAtTest: true }).eval().forward(x); // x · 0.5 (the "mean network")
 */
export class Dropout extends Module {
  readonly p: number;
  readonly scaleAtTest: boolean;
  private readonly rng: Rng | undefined;

  constructor(p = 0.5, options: DropoutOptionsWithVariant = {}) {
    super();
    checkOptionKeys("Dropout", options, ["rng", "scaleAtTest"]);
    checkProbability("Dropout", p);
    this.p = p;
    this.rng = options.rng;
    this.scaleAtTest = options.scaleAtTest ?? false;
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, rng: this.rng, scaleAtTest: this.scaleAtTest });
  }

  override extraRepr(): string {
    return this.scaleAtTest ? `p=${this.p}, scaleAtTest=true` : `p=${this.p}`;
  }
}

/**
 * Zeroes whole channels with probability p in training (torch.nn.Dropout2d, "spatial dropout"), scaling the
 * kept channels by 1/(1-p): neighbouring pixels of a feature map are correlated, so per-element dropout
 * regularises convolutions little. Input [N, C, H, W] (or unbatched [C, H, W]); identity in eval.
 * @example new Dropout2d(0.2).forward(x) // x [8, 64, 16, 16]: each of the 8·64 planes kept or zeroed
 */
export class Dropout2d extends Module {
  readonly p: number;
  private readonly rng: Rng | undefined;

  constructor(p = 0.5, options: DropoutLayerOptions = {}) {
    super();
    checkOptionKeys("Dropout2d", options, ["rng"]);
    checkProbability("Dropout2d", p);
    this.p = p;
    this.rng = options.rng;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 && x.ndim !== 3) {
      throw new Error(`Dropout2d: input must be [N, C, H, W] or [C, H, W], got ${formatShape(x.shape)}`);
    }
    if (!this.training || this.p === 0) return x;
    if (this.p === 1) return mul(x, 0);
    const maskShape = [...x.shape.slice(0, -2), 1, 1];
    const planes = maskShape.reduce((a, b) => a * b, 1);
    const rng = this.rng ?? globalRng;
    const scale = 1 / (1 - this.p);
    const mask = x.dtype === "float64" ? new Float64Array(planes) : new Float32Array(planes);
    for (let i = 0; i < planes; i++) mask[i] = rng.uniform() >= this.p ? scale : 0;
    return mul(x, tensor(mask, maskShape, { backend: x.backend.name }));
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Options of `StochasticDepth` (torchvision.ops.StochasticDepth's `mode`). */
export interface StochasticDepthLayerOptions extends DropoutLayerOptions {
  /** "row" (default, per sample) or "batch" (the whole batch at once), as torchvision's `mode`. */
  mode?: "row" | "batch";
}

/**
 * Stochastic depth (torchvision.ops.StochasticDepth): drops a residual branch with probability p in
 * training, per sample ("row") or per batch, scaling survivors by 1/(1-p); the identity after `eval()`.
 * Put it at the end of the branch, before the addition to the shortcut (ConvNeXt, EfficientNet).
 * @example this.branch = new Sequential(conv, norm, act, new StochasticDepth(0.1))
 */
export class StochasticDepth extends Module {
  readonly p: number;
  readonly mode: "row" | "batch";
  private readonly rng: Rng | undefined;

  constructor(p: number, options: StochasticDepthLayerOptions = {}) {
    super();
    checkOptionKeys("StochasticDepth", options, ["rng", "mode"]);
    checkProbability("StochasticDepth", p);
    const mode = options.mode ?? "row";
    if (mode !== "row" && mode !== "batch") {
      throw new Error(`StochasticDepth: mode must be 'row' or 'batch', got ${JSON.stringify(mode)}`);
    }
    this.p = p;
    this.mode = mode;
    this.rng = options.rng;
  }

  forward(x: Tensor): Tensor {
    return stochasticDepth(x, this.p, { mode: this.mode, training: this.training, rng: this.rng });
  }

  override extraRepr(): string {
    return `p=${this.p}, mode=${this.mode}`;
  }
}
