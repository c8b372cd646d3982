// Normalisation layers: batch normalisation (torch.nn.BatchNorm1d/2d, with torch's parameter and buffer
// names so that state dicts move between the two), local response normalisation (AlexNet), and the
// per-sample LayerNorm, GroupNorm and LayerNorm2d (ConvNeXt). Batch norm keeps its running statistics as
// buffers and replaces them after every training step.

import { ones, tensor, zeros, type Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { add } from "../ops/elementwise.js";
import {
  batchNormWithStats,
  groupNorm,
  layerNorm,
  layerNorm2d,
  localResponseNorm,
  MAX_LRN_SIZE,
} from "../ops/normalization.js";
import { Module } from "./module.js";
import { checkAllocatable, checkNumber, checkOptionKeys, hostValues } from "../ops/util.js";
import { Parameter } from "./parameter.js";
import { empty, type ModuleOptions } from "./parameter.js";
import { ones_, zeros_ } from "./init.js";

/** Options of `BatchNorm1d` and `BatchNorm2d` (torch's keyword arguments), defaults as torch's. */
export interface BatchNormLayerOptions extends ModuleOptions {
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /**
   * Weight of the current batch in the running statistics (default 0.1); null for a cumulative average
   * over all batches seen (momentum = 1/num_batches_tracked), as in torch.
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` and shift `bias`. Default true. */
  affine?: boolean;
  /** Keep running statistics for eval. Without them batch statistics are used in eval too. Default true. */
  trackRunningStats?: boolean;
}

/**
 * num_batches_tracked as an int32 scalar made from an array: webgpu keeps such a value on the host too, so
 * the cumulative average (momentum null) reads the count without waiting for the GPU.
 */
function batchCount(n: number, backend: string | undefined): Tensor {
  return tensor(Int32Array.of(n), [], { backend });
}

/**
 * Shared body of BatchNorm1d and BatchNorm2d (torch's _BatchNorm): parameters `weight` (ones) and `bias`
 * (zeros) of shape [numFeatures]; buffers `running_mean` (zeros), `running_var` (ones) and
 * `num_batches_tracked` (int32 scalar), in torch's order.
 */
export abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super();
    checkOptionKeys(new.target.name, options, [
      "eps",
      "momentum",
      "affine",
      "trackRunningStats",
      "dtype",
      "backend",
    ]);
    const name = `${new.target.name}(${numFeatures})`;
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new Error(`${name}: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    checkAllocatable(name, "running_mean", [numFeatures]);
    this.numFeatures = numFeatures;
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    if (!(this.eps > 0 && this.eps < Infinity))
      throw new Error(`${name}: eps must be a positive finite number, got ${this.eps}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new Error(`${name}: momentum must be in [0, 1] or null, got ${this.momentum}`);
    }
    this.weight = this.affine ? new Parameter(empty([numFeatures], options)) : null;
    this.bias = this.affine ? new Parameter(empty([numFeatures], options)) : null;
    if (this.trackRunningStats) {
      this.registerBuffer("running_mean", empty([numFeatures], options));
      this.registerBuffer("running_var", empty([numFeatures], options));
      this.registerBuffer("num_batches_tracked", batchCount(0, options.backend));
    } else {
      this.registerBuffer("running_mean", null);
      this.registerBuffer("running_var", null);
      this.registerBuffer("num_batches_tracked", null);
    }
    this.resetParameters();
  }

  /** Running mean 0, running variance 1, no batches seen. */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    // Fresh tensors rather than in-place fills: after training the buffers are op results, not leaves.
    const mean = this.getBuffer("running_mean");
    const options = { dtype: mean.dtype, backend: mean.backend.name };
    this.setBuffer("running_mean", zeros([this.numFeatures], options));
    this.setBuffer("running_var", ones([this.numFeatures], options));
    this.setBuffer("num_batches_tracked", batchCount(0, mean.backend.name));
  }

  /** Resets the running statistics and sets weight to 1 and bias to 0 (torch's reset_parameters). */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  /** How the layer is named in errors: `BatchNorm2d(64)`. */
  get label(): string {
    return `${this.constructor.name}(${this.numFeatures})`;
  }

  /** Accepted input ranks, e.g. [2, 3] for BatchNorm1d, and how to describe them. */
  protected abstract readonly ranks: readonly number[];
  protected abstract readonly layout: string;

  private checkInput(x: Tensor): void {
    if (!this.ranks.includes(x.ndim)) {
      throw new Error(`${this.label}: input must be ${this.layout}, got ${formatShape(x.shape)}`);
    }
    if (x.shape[1] !== this.numFeatures) {
      throw new Error(
        `${this.label}: input has ${x.shape[1]} channels, expected ${this.numFeatures}; input ${formatShape(x.shape)}`,
      );
    }
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    // Batch statistics in training, and also in eval when there are no running statistics (torch's rule).
    const useBatchStats = this.training || !this.trackRunningStats;
    const updateStats = this.training && this.trackRunningStats;
    if (useBatchStats && x.size / this.numFeatures <= 1) {
      throw new Error(
        `${this.label}: expected more than 1 value per channel when training; input ${formatShape(x.shape)}`,
      );
    }
    let momentum = this.momentum ?? 0;
    if (updateStats) {
      const tracked = this.getBuffer("num_batches_tracked");
      // The cumulative average needs the count as a number: counted on the host when the buffer's value is
      // there (always on js and wasm; on webgpu a count made here from a number stays readable).
      const known = this.momentum === null ? hostValues(tracked) : null;
      const count = known === null ? add(tracked, 1) : batchCount(known[0] + 1, tracked.backend.name);
      this.setBuffer("num_batches_tracked", count);
      if (this.momentum === null) momentum = 1 / count.item();
    }
    const result = batchNormWithStats(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.trackRunningStats ? this.getBuffer("running_mean") : null,
      runningVar: this.trackRunningStats ? this.getBuffer("running_var") : null,
      training: useBatchStats,
      momentum,
      eps: this.eps,
    });
    if (updateStats) {
      this.setBuffer("running_mean", result.runningMean!);
      this.setBuffer("running_var", result.runningVar!);
    }
    return result.output;
  }

  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, ` +
      `trackRunningStats=${this.trackRunningStats}`
    );
  }
}

/**
 * Batch normalisation of [N, C] or [N, C, L] input over every dim but C (torch.nn.BatchNorm1d), e.g. after
 * a Linear layer. In training it normalises with the batch mean and biased variance and moves the running
 * statistics (running_var takes the unbiased variance); in eval it uses the running statistics.
 * @example
 * const bn = new BatchNorm1d(120);
 * bn.forward(x); // x [N, 120] -> [N, 120]
 */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3];
  protected readonly layout = "2-D [N, C] or 3-D [N, C, L]";
}

/**
 * Batch normalisation of NCHW input per channel over (N, H, W) (torch.nn.BatchNorm2d), as after every
 * convolution of a ResNet. Parameters `weight`, `bias`; buffers `running_mean`, `running_var`,
 * `num_batches_tracked` (torchvision's state-dict names).
 * @example
 * const bn = new BatchNorm2d(64);
 * bn.forward(x); // x [N, 64, H, W] -> [N, 64, H, W]; bn.eval() switches to the running statistics
 */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4];
  protected readonly layout = "4-D [N, C, H, W]";
}

/**
 * Options of `LocalResponseNorm` (torch.nn.LocalResponseNorm): `alpha` (default 1e-4), `beta` (default 0.75),
 * `k` (default 1).
 */
export interface LocalResponseNormLayerOptions {
  alpha?: number;
  beta?: number;
  k?: number;
}

/**
 * Local response normalisation across channels (torch.nn.LocalResponseNorm, as in AlexNet):
 * y_c = x_c / (k + alpha/size · Σ x_{c'}²)^beta over the `size` channels around c. torch divides alpha by
 * size; AlexNet's paper (k=2, n=5, alpha=1e-4, beta=0.75) does not.
 * @example new LocalResponseNorm(5, { k: 2 }).forward(x) // same shape as x
 */
export class LocalResponseNorm extends Module {
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;

  constructor(size: number, options: LocalResponseNormLayerOptions = {}) {
    super();
    checkOptionKeys("LocalResponseNorm", options, ["alpha", "beta", "k"]);
    checkNumber("LocalResponseNorm", "size", size, { integer: true, min: 1, max: MAX_LRN_SIZE });
    this.size = size;
    this.alpha = checkNumber("LocalResponseNorm", "alpha", options.alpha ?? 1e-4);
    this.beta = checkNumber("LocalResponseNorm", "beta", options.beta ?? 0.75);
    this.k = checkNumber("LocalResponseNorm", "k", options.k ?? 1);
  }

  forward(x: Tensor): Tensor {
    return localResponseNorm(x, this.size, { alpha: this.alpha, beta: this.beta, k: this.k });
  }

  override extraRepr(): string {
    return `${this.size}, alpha=${this.alpha}, beta=${this.beta}, k=${this.k}`;
  }
}

/** Options of `LayerNorm` and `LayerNorm2d` (torch's `eps` and `elementwise_affine`). */
export interface LayerNormLayerOptions extends ModuleOptions {
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Learn an elementwise `weight` (ones) and `bias` (zeros). Default true. */
  elementwiseAffine?: boolean;
}

function checkLayerEps(name: string, eps: number): void {
  if (!(typeof eps === "number" && eps >= 0))
    throw new Error(`${name}: eps must be a non-negative number, got ${eps}`);
}

/** weight (ones) and bias (zeros) of `shape`, or nulls without affine. */
function affineParameters(shape: readonly number[], affine: boolean, options: ModuleOptions) {
  if (!affine) return { weight: null, bias: null };
  const weight = new Parameter(empty(shape, options));
  const bias = new Parameter(empty(shape, options));
  ones_(weight);
  zeros_(bias);
  return { weight, bias };
}

/**
 * Layer normalisation over the trailing `normalizedShape` dims of each sample (torch.nn.LayerNorm).
 * Parameters `weight` (ones) and `bias` (zeros) of shape normalizedShape unless elementwiseAffine is false.
 * @example new LayerNorm(768).forward(x) // x [N, L, 768]
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormLayerOptions = {}) {
    super();
    checkOptionKeys("LayerNorm", options, ["eps", "elementwiseAffine", "dtype", "backend"]);
    const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    const name = `LayerNorm(${JSON.stringify(normalizedShape)})`;
    if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new Error(
        `${name}: normalizedShape must be positive integers, got ${JSON.stringify(normalizedShape)}`,
      );
    }
    this.normalizedShape = shape;
    this.eps = options.eps ?? 1e-5;
    checkLayerEps(name, this.eps);
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    const { weight, bias } = affineParameters(shape, this.elementwiseAffine, options);
    this.weight = weight;
    this.bias = bias;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `${JSON.stringify(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}

/** Options of `GroupNorm` (torch's `eps` and `affine`). */
export interface GroupNormLayerOptions extends ModuleOptions {
  /** Default 1e-5. */
  eps?: number;
  /** Learn a per-channel `weight` (ones) and `bias` (zeros). Default true. */
  affine?: boolean;
}

/**
 * Group normalisation (torch.nn.GroupNorm): channels in `numGroups` groups, each normalised per sample
 * over its channels and positions; per-channel `weight` and `bias` [numChannels]. Independent of the batch
 * size, so it trains with batches of 1 or 2 where batch norm cannot.
 * @example new GroupNorm(32, 256).forward(x) // x [N, 256, H, W]
 */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(numGroups: number, numChannels: number, options: GroupNormLayerOptions = {}) {
    super();
    checkOptionKeys("GroupNorm", options, ["eps", "affine", "dtype", "backend"]);
    const name = `GroupNorm(${numGroups}, ${numChannels})`;
    if (!Number.isInteger(numChannels) || numChannels < 1)
      throw new Error(`${name}: numChannels must be a positive integer, got ${numChannels}`);
    if (!Number.isInteger(numGroups) || numGroups < 1 || numChannels % numGroups !== 0)
      throw new Error(`${name}: numGroups must be a positive integer dividing numChannels (${numChannels})`);
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = options.eps ?? 1e-5;
    checkLayerEps(name, this.eps);
    this.affine = options.affine ?? true;
    const { weight, bias } = affineParameters([numChannels], this.affine, options);
    this.weight = weight;
    this.bias = bias;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new Error(
        `GroupNorm(${this.numGroups}, ${this.numChannels}): input must be [N, ${this.numChannels}, …], got ${formatShape(x.shape)}`,
      );
    }
    return groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine}`;
  }
}

/**
 * Layer normalisation across the channels of NCHW input at every pixel, as torchvision's ConvNeXt
 * LayerNorm2d (layer_norm over C in channels-last order). Parameters `weight` and `bias` [numChannels].
 * ConvNeXt uses eps 1e-6; the default is LayerNorm's 1e-5.
 * @example new LayerNorm2d(96, { eps: 1e-6 }).forward(x) // x [N, 96, H, W]
 */
export class LayerNorm2d extends Module {
  readonly numChannels: number;
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(numChannels: number, options: LayerNormLayerOptions = {}) {
    super();
    checkOptionKeys("LayerNorm2d", options, ["eps", "elementwiseAffine", "dtype", "backend"]);
    const name = `LayerNorm2d(${numChannels})`;
    if (!Number.isInteger(numChannels) || numChannels < 1)
      throw new Error(`${name}: numChannels must be a positive integer, got ${numChannels}`);
    this.numChannels = numChannels;
    this.eps = options.eps ?? 1e-5;
    checkLayerEps(name, this.eps);
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    const { weight, bias } = affineParameters([numChannels], this.elementwiseAffine, options);
    this.weight = weight;
    this.bias = bias;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.numChannels) {
      throw new Error(
        `LayerNorm2d(${this.numChannels}): input must be [N, ${this.numChannels}, H, W], got ${formatShape(x.shape)}`,
      );
    }
    return layerNorm2d(x, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numChannels}, eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}
