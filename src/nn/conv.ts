// Convolution layers (torch.nn.Conv2d, Conv1d, ConvTranspose2d): they hold the weight and bias, keep their
// configuration in public readonly fields (summary() and MAC counts read them), initialise exactly like
// torch's reset_parameters, and check the input against the configuration so errors name the layer.

import type { Tensor } from "../tensor/tensor.js";
import { formatShape, pairAtLeast } from "../tensor/shape.js";
import { conv1d, conv2d, convTranspose2d, samePadding, type Size2 } from "../ops/conv.js";
import { pad } from "../ops/movement.js";
import { Module } from "./module.js";
import { checkAllocatable, checkOptionKeys } from "../ops/util.js";
import { Parameter } from "./parameter.js";
import { empty, type ModuleOptions } from "./parameter.js";
import { calculateFans, kaimingUniform_, uniform_ } from "./init.js";

/** The option keys Conv2d and Conv1d accept (others are rejected, naming the layer). */
const CONV_OPTION_KEYS = [
  "stride",
  "padding",
  "dilation",
  "groups",
  "bias",
  "paddingMode",
  "dtype",
  "backend",
];

/**
 * Options of `Conv2d` (torch.nn.Conv2d's keyword arguments): `stride` (default 1), `padding` (default 0),
 * `dilation` (default 1), `groups` (default 1; `inChannels` for a depthwise convolution), `bias` (default
 * true), `paddingMode` (default "zeros"); a number or an [h, w] pair each.
 */
export interface Conv2dLayerOptions extends ModuleOptions {
  stride?: Size2;
  /** Zero padding per side, or "same" (output size = input size; stride 1 only) or "valid" (= 0). */
  padding?: Size2 | "same" | "valid";
  dilation?: Size2;
  groups?: number;
  bias?: boolean;
  /**
   * How the border is padded: "zeros" (default), or "reflect", "replicate", "circular" (the input is padded
   * with F.pad's mode, then convolved without padding), as torch's padding_mode.
   */
  paddingMode?: PaddingMode;
}

/**
 * How a convolution pads its input (torch's `padding_mode`): with zeros, by reflecting the border (without
 * repeating it), by repeating the edge, or by wrapping around.
 */
export type PaddingMode = "zeros" | "reflect" | "replicate" | "circular";

const paddingModes: readonly PaddingMode[] = ["zeros", "reflect", "replicate", "circular"];

/**
 * Options of `ConvTranspose2d` (torch.nn.ConvTranspose2d's keyword arguments): `stride` (default 1),
 * `padding` (default 0: removes rows/columns from the output), `outputPadding` (default 0), `dilation`
 * (default 1), `groups` (default 1), `bias` (default true).
 */
export interface ConvTranspose2dLayerOptions extends ModuleOptions {
  stride?: Size2;
  padding?: Size2;
  /** Extra rows/columns added to one side of the output; must be smaller than stride or dilation. */
  outputPadding?: Size2;
  dilation?: Size2;
  groups?: number;
  bias?: boolean;
}

/** A pair shown as one number when square, like torch prints its tuples in the constructor call. */
function showPair(p: readonly [number, number]): string {
  return p[0] === p[1] ? String(p[0]) : `[${p[0]},${p[1]}]`;
}

function checkChannels(layer: string, inChannels: number, outChannels: number, groups: number): void {
  for (const [name, v] of [
    ["inChannels", inChannels],
    ["outChannels", outChannels],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`${layer}: ${name} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new Error(
      `${layer}: groups=${groups} must be a positive integer dividing inChannels (${inChannels}) and outChannels (${outChannels})`,
    );
  }
}

/** torch's _ConvNd.reset_parameters: W ~ kaiming_uniform(a=√5), i.e. U(±1/sqrt(fan_in)); b ~ U(±1/sqrt(fan_in)). */
function resetConvParameters(weight: Parameter, bias: Parameter | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const { fanIn } = calculateFans(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}

/**
 * 2-D convolution over NCHW input (torch.nn.Conv2d).
 *
 * Parameters: `weight` [outChannels, inChannels/groups, kH, kW] and `bias` [outChannels] (unless
 * `bias: false`), both drawn from U(±1/sqrt(fan_in)) with fan_in = inChannels/groups·kH·kW, as torch does.
 * Input [N, inChannels, H, W] gives [N, outChannels, outH, outW] with
 * outH = floor((H + 2·padding - dilation·(kH-1) - 1) / stride) + 1.
 *
 * With `padding: "same"` the input is zero-padded so that outH = H and outW = W (stride 1 only); an even
 * effective kernel puts the extra row/column at the bottom/right, as torch does. `paddingMode` pads with
 * reflected, replicated or wrapped-around values instead of zeros.
 * @example
 * const conv = new Conv2d(3, 16, 5, { padding: 2 });
 * conv.forward(x); // x [8, 3, 32, 32] -> [8, 16, 32, 32]
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  /** Padding before each spatial dim (top, left); with "same" the bottom/right side may get one more. */
  readonly padding: [number, number];
  /** True when constructed with `padding: "same"`. */
  readonly paddingSame: boolean;
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Size2, options: Conv2dLayerOptions = {}) {
    super();
    checkOptionKeys("Conv2d", options, CONV_OPTION_KEYS);
    const name = `Conv2d(${inChannels}, ${outChannels}, kernelSize=${JSON.stringify(kernelSize)})`;
    const groups = options.groups ?? 1;
    this.paddingMode = options.paddingMode ?? "zeros";
    if (!paddingModes.includes(this.paddingMode)) {
      throw new Error(
        `${name}: paddingMode must be one of ${paddingModes.join(", ")}, got ${JSON.stringify(options.paddingMode)}`,
      );
    }
    checkChannels(name, inChannels, outChannels, groups);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pairAtLeast(kernelSize, "kernelSize", name, 1);
    this.stride = pairAtLeast(options.stride ?? 1, "stride", name, 1);
    this.dilation = pairAtLeast(options.dilation ?? 1, "dilation", name, 1);
    this.groups = groups;
    const padding = options.padding ?? 0;
    this.paddingSame = padding === "same";
    if (padding === "same") {
      if (this.stride[0] !== 1 || this.stride[1] !== 1) {
        throw new Error(
          `${name}: padding "same" needs stride 1, got stride ${JSON.stringify(options.stride)}`,
        );
      }
      this.padding = [0, 1].map((i) => Math.floor(this.totalSamePadding(i) / 2)) as [number, number];
    } else {
      this.padding = pairAtLeast(padding === "valid" ? 0 : padding, "padding", name, 0);
    }
    const [kH, kW] = this.kernelSize;
    checkAllocatable(name, "weight", [outChannels, inChannels / groups, kH, kW]);
    this.weight = new Parameter(empty([outChannels, inChannels / groups, kH, kW], options));
    this.bias = options.bias === false ? null : new Parameter(empty([outChannels], options));
    this.resetParameters();
  }

  /** Re-draws weight and bias from torch's default distributions. */
  resetParameters(): void {
    resetConvParameters(this.weight, this.bias);
  }

  private totalSamePadding(dim: number): number {
    return this.dilation[dim] * (this.kernelSize[dim] - 1);
  }

  /** How the layer is named in errors: `Conv2d(3, 16, kernelSize=5)`. */
  get label(): string {
    return `${this.constructor.name}(${this.inChannels}, ${this.outChannels}, kernelSize=${showPair(this.kernelSize)})`;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4) {
      throw new Error(`${this.label}: input must be 4-D [N, C, H, W], got ${formatShape(x.shape)}`);
    }
    if (x.shape[1] !== this.inChannels) {
      throw new Error(
        `${this.label}: input has ${x.shape[1]} channels, expected ${this.inChannels}; input ${formatShape(x.shape)}`,
      );
    }
    const options = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode !== "zeros") {
      const [extraH, extraW] = [0, 1].map((i) =>
        this.paddingSame ? this.totalSamePadding(i) - 2 * this.padding[i] : 0,
      );
      const [top, left] = this.padding;
      const padded = pad(x, [left, left + extraW, top, top + extraH], this.paddingMode);
      return conv2d(padded, this.weight, this.bias, options);
    }
    if (this.paddingSame) {
      const [extraH, extraW] = [0, 1].map((i) => this.totalSamePadding(i) - 2 * this.padding[i]);
      if (extraH > 0 || extraW > 0) {
        // Asymmetric: pad explicitly (torch's order: left, right, top, bottom), then convolve unpadded.
        const [top, left] = this.padding;
        return conv2d(pad(x, [left, left + extraW, top, top + extraH]), this.weight, this.bias, options);
      }
    }
    return conv2d(x, this.weight, this.bias, { ...options, padding: this.padding });
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=${showPair(this.kernelSize)}`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride=${showPair(this.stride)}`);
    if (this.paddingSame) parts.push(`padding="same"`);
    else if (this.padding.some((p) => p !== 0)) parts.push(`padding=${showPair(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${showPair(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push("bias=false");
    if (this.paddingMode !== "zeros") parts.push(`paddingMode="${this.paddingMode}"`);
    return parts.join(", ");
  }
}

/**
 * Transposed 2-D convolution (torch.nn.ConvTranspose2d), the gradient of Conv2d with respect to its input;
 * used for learned upsampling.
 *
 * Parameters: `weight` [inChannels, outChannels/groups, kH, kW] (torch's layout) and `bias` [outChannels],
 * both drawn from U(±1/sqrt(fan_in)) with fan_in = outChannels/groups·kH·kW (torch computes fan_in from
 * weight dim 1). Input [N, inChannels, H, W] gives [N, outChannels, outH, outW] with
 * outH = (H-1)·stride - 2·padding + dilation·(kH-1) + outputPadding + 1.
 * @example
 * const up = new ConvTranspose2d(16, 8, 2, { stride: 2 });
 * up.forward(x); // x [1, 16, 7, 7] -> [1, 8, 14, 14]
 */
export class ConvTranspose2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Size2,
    options: ConvTranspose2dLayerOptions = {},
  ) {
    super();
    checkOptionKeys("ConvTranspose2d", options, [
      "stride",
      "padding",
      "outputPadding",
      "dilation",
      "groups",
      "bias",
      "dtype",
      "backend",
    ]);
    const name = `ConvTranspose2d(${inChannels}, ${outChannels}, kernelSize=${JSON.stringify(kernelSize)})`;
    const groups = options.groups ?? 1;
    checkChannels(name, inChannels, outChannels, groups);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pairAtLeast(kernelSize, "kernelSize", name, 1);
    this.stride = pairAtLeast(options.stride ?? 1, "stride", name, 1);
    this.padding = pairAtLeast(options.padding ?? 0, "padding", name, 0);
    this.outputPadding = pairAtLeast(options.outputPadding ?? 0, "outputPadding", name, 0);
    this.dilation = pairAtLeast(options.dilation ?? 1, "dilation", name, 1);
    this.groups = groups;
    for (const i of [0, 1]) {
      if (this.outputPadding[i] >= this.stride[i] && this.outputPadding[i] >= this.dilation[i]) {
        throw new Error(
          `${name}: outputPadding ${JSON.stringify(this.outputPadding)} must be smaller than stride ` +
            `${JSON.stringify(this.stride)} or dilation ${JSON.stringify(this.dilation)}`,
        );
      }
    }
    const [kH, kW] = this.kernelSize;
    this.weight = new Parameter(empty([inChannels, outChannels / groups, kH, kW], options));
    this.bias = options.bias === false ? null : new Parameter(empty([outChannels], options));
    this.resetParameters();
  }

  /** Draws new weights and bias as the constructor does: U(±1/sqrt(fan_in)), torch's `reset_parameters`. */
  resetParameters(): void {
    resetConvParameters(this.weight, this.bias);
  }

  /** How the layer is named in errors: `ConvTranspose2d(16, 3, kernelSize=4)`. */
  get label(): string {
    return `${this.constructor.name}(${this.inChannels}, ${this.outChannels}, kernelSize=${showPair(this.kernelSize)})`;
  }

  /**
   * Transposed convolution of `x` [N, inChannels, H, W] → [N, outChannels, H', W'] with H' = (H−1)·stride −
   * 2·padding + dilation·(k−1) + outputPadding + 1.
   * @param outputSize optional [outH, outW] to pick among the sizes a strided convolution could have come
   * from (torch's output_size); it overrides `outputPadding`.
   */
  forward(x: Tensor, outputSize?: readonly [number, number]): Tensor {
    if (x.ndim !== 4) {
      throw new Error(`${this.label}: input must be 4-D [N, C, H, W], got ${formatShape(x.shape)}`);
    }
    if (x.shape[1] !== this.inChannels) {
      throw new Error(
        `${this.label}: input has ${x.shape[1]} channels, expected ${this.inChannels}; input ${formatShape(x.shape)}`,
      );
    }
    const outputPadding = outputSize ? this.outputPaddingFor(x, outputSize) : this.outputPadding;
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  private outputPaddingFor(x: Tensor, outputSize: readonly [number, number]): [number, number] {
    const result: [number, number] = [0, 0];
    for (const i of [0, 1]) {
      const smallest =
        (x.shape[2 + i] - 1) * this.stride[i] -
        2 * this.padding[i] +
        this.dilation[i] * (this.kernelSize[i] - 1) +
        1;
      const largest = smallest + this.stride[i] - 1;
      if (!(outputSize[i] >= smallest && outputSize[i] <= largest)) {
        throw new Error(
          `${this.label}: requested outputSize ${JSON.stringify(outputSize)} is not reachable from input ` +
            `${formatShape(x.shape)}; dim ${i} must be in [${smallest}, ${largest}]`,
        );
      }
      result[i] = outputSize[i] - smallest;
    }
    return result;
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=${showPair(this.kernelSize)}`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride=${showPair(this.stride)}`);
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=${showPair(this.padding)}`);
    if (this.outputPadding.some((p) => p !== 0)) parts.push(`outputPadding=${showPair(this.outputPadding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${showPair(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push("bias=false");
    return parts.join(", ");
  }
}

/**
 * Options of `Conv1d` (torch.nn.Conv1d's keyword arguments): `stride` (default 1), `padding` (default 0),
 * `dilation` (default 1), `groups` (default 1), `bias` (default true), `paddingMode` (default "zeros").
 */
export interface Conv1dLayerOptions extends ModuleOptions {
  stride?: number;
  /** Zero padding per side, or "same" (output length = input length; stride 1 only) or "valid" (= 0). */
  padding?: number | "same" | "valid";
  dilation?: number;
  groups?: number;
  bias?: boolean;
  /** "zeros" (default), "reflect", "replicate" or "circular", as Conv2d's. */
  paddingMode?: PaddingMode;
}

/**
 * 1-D convolution over [N, C, L] input (torch.nn.Conv1d), e.g. for sequences and signals.
 *
 * Parameters: `weight` [outChannels, inChannels/groups, kernelSize] and `bias` [outChannels], drawn from
 * U(±1/sqrt(fan_in)) with fan_in = inChannels/groups·kernelSize, as torch does. Output length
 * floor((L + 2·padding - dilation·(k-1) - 1) / stride) + 1.
 * @example new Conv1d(16, 32, 5, { padding: 2 }).forward(x) // x [8, 16, 100] -> [8, 32, 100]
 */
export class Conv1d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number | "same";
  readonly dilation: number;
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number, options: Conv1dLayerOptions = {}) {
    super();
    checkOptionKeys("Conv1d", options, CONV_OPTION_KEYS);
    const name = `Conv1d(${inChannels}, ${outChannels}, kernelSize=${JSON.stringify(kernelSize)})`;
    const groups = options.groups ?? 1;
    checkChannels(name, inChannels, outChannels, groups);
    const integer = (key: string, v: unknown, min: number) => {
      if (typeof v !== "number" || !Number.isInteger(v) || v < min)
        throw new Error(`${name}: ${key} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
      return v;
    };
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = integer("kernelSize", kernelSize, 1);
    this.stride = integer("stride", options.stride ?? 1, 1);
    this.dilation = integer("dilation", options.dilation ?? 1, 1);
    const padding = options.padding ?? 0;
    this.padding = padding === "valid" ? 0 : padding === "same" ? "same" : integer("padding", padding, 0);
    if (this.padding === "same" && this.stride !== 1)
      throw new Error(`${name}: padding "same" needs stride 1, got stride ${this.stride}`);
    this.groups = groups;
    this.paddingMode = options.paddingMode ?? "zeros";
    if (!paddingModes.includes(this.paddingMode)) {
      throw new Error(
        `${name}: paddingMode must be one of ${paddingModes.join(", ")}, got ${JSON.stringify(options.paddingMode)}`,
      );
    }
    this.weight = new Parameter(empty([outChannels, inChannels / groups, this.kernelSize], options));
    this.bias = options.bias === false ? null : new Parameter(empty([outChannels], options));
    this.resetParameters();
  }

  /** Draws new weights and bias as the constructor does: U(±1/sqrt(fan_in)), torch's `reset_parameters`. */
  resetParameters(): void {
    resetConvParameters(this.weight, this.bias);
  }

  /** How the layer is named in errors: `Conv1d(3, 16, kernelSize=5)`. */
  get label(): string {
    return `Conv1d(${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize})`;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 3)
      throw new Error(`${this.label}: input must be 3-D [N, C, L], got ${formatShape(x.shape)}`);
    if (x.shape[1] !== this.inChannels) {
      throw new Error(
        `${this.label}: input has ${x.shape[1]} channels, expected ${this.inChannels}; input ${formatShape(x.shape)}`,
      );
    }
    const options = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode === "zeros")
      return conv1d(x, this.weight, this.bias, { ...options, padding: this.padding });
    const [before, after] =
      this.padding === "same" ? samePadding(this.kernelSize, this.dilation) : [this.padding, this.padding];
    return conv1d(pad(x, [before, after], this.paddingMode), this.weight, this.bias, options);
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize}`];
    if (this.stride !== 1) parts.push(`stride=${this.stride}`);
    if (this.padding !== 0) parts.push(`padding=${JSON.stringify(this.padding)}`);
    if (this.dilation !== 1) parts.push(`dilation=${this.dilation}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push("bias=false");
    if (this.paddingMode !== "zeros") parts.push(`paddingMode="${this.paddingMode}"`);
    return parts.join(", ");
  }
}
