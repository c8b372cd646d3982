// Pooling layers (torch.nn.MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, plus GlobalAvgPool2d
// and GlobalMaxPool2d): parameter-free
// modules whose configuration is normalised to [h, w] pairs in public readonly fields, so summary() and MAC
// counts can read it, and whose forward calls the functional op.

import type { Tensor } from "../tensor/tensor.js";
import { formatShape, pair } from "../tensor/shape.js";
import {
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
  avgPool2d,
  globalAvgPool2d,
  globalMaxPool2d,
  maxPool2d,
} from "../ops/pool.js";
import type { Size2 } from "../ops/conv.js";
import { flatten } from "../ops/movement.js";
import { Module } from "./module.js";
import { checkOptionKeys } from "../ops/util.js";

/**
 * Options of `MaxPool2d` (torch's keyword arguments): `stride` (default kernelSize), `padding` (default 0, at
 * most half the kernel), `dilation` (default 1), `ceilMode` (default false: round the output size down).
 */
export interface MaxPool2dLayerOptions {
  /** Defaults to kernelSize (non-overlapping windows), as in torch. */
  stride?: Size2 | null;
  padding?: Size2;
  dilation?: Size2;
  ceilMode?: boolean;
}

/**
 * Options of `AvgPool2d` (torch's keyword arguments): `stride` (default kernelSize), `padding` (default 0),
 * `ceilMode` (default false), `countIncludePad` (default true: padded zeros count in the divisor),
 * `divisorOverride` (default null: the window size).
 */
export interface AvgPool2dLayerOptions {
  stride?: Size2 | null;
  padding?: Size2;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

function checkedPair(layer: string, value: Size2, name: string, min: number): [number, number] {
  const p = pair(value, name, layer);
  if (p[0] < min || p[1] < min)
    throw new Error(`${layer}: ${name} must be >= ${min}, got ${JSON.stringify(value)}`);
  return p;
}

/** Padding may be at most half the kernel (torch's rule): a window must not lie wholly in the padding. */
function checkPadding(layer: string, padding: [number, number], kernel: [number, number]): void {
  if (2 * padding[0] > kernel[0] || 2 * padding[1] > kernel[1]) {
    throw new Error(
      `${layer}: padding ${JSON.stringify(padding)} must be at most half the kernel size ${JSON.stringify(kernel)}`,
    );
  }
}

function check4d(layer: string, x: Tensor): void {
  if (x.ndim !== 4) throw new Error(`${layer}: input must be 4-D [N, C, H, W], got ${formatShape(x.shape)}`);
}

const show = (p: readonly [number, number]) => (p[0] === p[1] ? String(p[0]) : `[${p[0]},${p[1]}]`);

/**
 * Max pooling over NCHW windows (torch.nn.MaxPool2d); padding counts as -infinity.
 * Output [N, C, outH, outW] with outH = floor((H + 2·padding - dilation·(kH-1) - 1) / stride) + 1
 * (ceil with `ceilMode`, as long as the last window starts inside the input or its left padding).
 * @example new MaxPool2d(2).forward(x) // x [8, 16, 28, 28] -> [8, 16, 14, 14]
 */
export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly ceilMode: boolean;

  constructor(kernelSize: Size2, options: MaxPool2dLayerOptions = {}) {
    super();
    checkOptionKeys("MaxPool2d", options, ["stride", "padding", "dilation", "ceilMode"]);
    const name = `MaxPool2d(${JSON.stringify(kernelSize)})`;
    this.kernelSize = checkedPair(name, kernelSize, "kernelSize", 1);
    this.stride = checkedPair(name, options.stride ?? kernelSize, "stride", 1);
    this.padding = checkedPair(name, options.padding ?? 0, "padding", 0);
    this.dilation = checkedPair(name, options.dilation ?? 1, "dilation", 1);
    this.ceilMode = options.ceilMode ?? false;
    checkPadding(name, this.padding, this.kernelSize);
  }

  forward(x: Tensor): Tensor {
    check4d(`MaxPool2d(${show(this.kernelSize)})`, x);
    return maxPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    });
  }

  override extraRepr(): string {
    return (
      `kernelSize=${show(this.kernelSize)}, stride=${show(this.stride)}, padding=${show(this.padding)}, ` +
      `dilation=${show(this.dilation)}, ceilMode=${this.ceilMode}`
    );
  }
}

/**
 * Average pooling over NCHW windows (torch.nn.AvgPool2d). With `countIncludePad` (the default) zero padding
 * counts in the divisor; `divisorOverride` replaces the divisor altogether.
 * @example new AvgPool2d(2).forward(x) // x [8, 6, 28, 28] -> [8, 6, 14, 14] (LeNet-5's subsampling)
 */
export class AvgPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: Size2, options: AvgPool2dLayerOptions = {}) {
    super();
    checkOptionKeys("AvgPool2d", options, [
      "stride",
      "padding",
      "ceilMode",
      "countIncludePad",
      "divisorOverride",
    ]);
    const name = `AvgPool2d(${JSON.stringify(kernelSize)})`;
    this.kernelSize = checkedPair(name, kernelSize, "kernelSize", 1);
    this.stride = checkedPair(name, options.stride ?? kernelSize, "stride", 1);
    this.padding = checkedPair(name, options.padding ?? 0, "padding", 0);
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
    this.divisorOverride = options.divisorOverride ?? null;
    checkPadding(name, this.padding, this.kernelSize);
    if (this.divisorOverride !== null && !(this.divisorOverride > 0)) {
      throw new Error(`${name}: divisorOverride must be positive, got ${this.divisorOverride}`);
    }
  }

  forward(x: Tensor): Tensor {
    check4d(`AvgPool2d(${show(this.kernelSize)})`, x);
    return avgPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  override extraRepr(): string {
    const extra = this.divisorOverride === null ? "" : `, divisorOverride=${this.divisorOverride}`;
    return (
      `kernelSize=${show(this.kernelSize)}, stride=${show(this.stride)}, padding=${show(this.padding)}, ` +
      `ceilMode=${this.ceilMode}, countIncludePad=${this.countIncludePad}${extra}`
    );
  }
}

/**
 * Average pooling to a fixed output size whatever the input size (torch.nn.AdaptiveAvgPool2d): output cell
 * i averages input rows [floor(i·H/outH), ceil((i+1)·H/outH)). ResNet ends with `new AdaptiveAvgPool2d(1)`.
 * @example new AdaptiveAvgPool2d([6, 6]).forward(x) // x [1, 256, 13, 13] -> [1, 256, 6, 6] (AlexNet)
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: [number, number];

  constructor(outputSize: Size2) {
    super();
    this.outputSize = checkedPair(
      `AdaptiveAvgPool2d(${JSON.stringify(outputSize)})`,
      outputSize,
      "outputSize",
      1,
    );
  }

  forward(x: Tensor): Tensor {
    check4d(`AdaptiveAvgPool2d(${show(this.outputSize)})`, x);
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `outputSize=${show(this.outputSize)}`;
  }
}

/** Options of `GlobalAvgPool2d` and `GlobalMaxPool2d`. */
export interface GlobalAvgPool2dOptions {
  /** Return [N, C] instead of [N, C, 1, 1] (Keras' GlobalAveragePooling2D). Default false. */
  flatten?: boolean;
}

/**
 * Mean over all spatial positions: [N, C, H, W] -> [N, C, 1, 1] (or [N, C] with `flatten`), the head of
 * network-in-network and GoogLeNet. Equivalent to AdaptiveAvgPool2d(1).
 * @example new GlobalAvgPool2d({ flatten: true }).forward(x) // x [8, 512, 7, 7] -> [8, 512]
 */
export class GlobalAvgPool2d extends Module {
  readonly flatten: boolean;

  constructor(options: GlobalAvgPool2dOptions = {}) {
    super();
    checkOptionKeys(new.target.name, options, ["flatten"]);
    this.flatten = options.flatten ?? false;
  }

  forward(x: Tensor): Tensor {
    check4d("GlobalAvgPool2d", x);
    const y = globalAvgPool2d(x);
    return this.flatten ? flatten(y, 1) : y;
  }

  override extraRepr(): string {
    return this.flatten ? "flatten=true" : "";
  }
}

/**
 * Max pooling to a fixed output size whatever the input size (torch.nn.AdaptiveMaxPool2d, without
 * return_indices): output cell i takes the maximum of input rows [floor(i·H/outH), ceil((i+1)·H/outH)).
 * @example new AdaptiveMaxPool2d(1).forward(x) // x [8, 512, 7, 7] -> [8, 512, 1, 1]
 */
export class AdaptiveMaxPool2d extends Module {
  readonly outputSize: [number, number];

  constructor(outputSize: Size2) {
    super();
    this.outputSize = checkedPair(
      `AdaptiveMaxPool2d(${JSON.stringify(outputSize)})`,
      outputSize,
      "outputSize",
      1,
    );
  }

  forward(x: Tensor): Tensor {
    check4d(`AdaptiveMaxPool2d(${show(this.outputSize)})`, x);
    return adaptiveMaxPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `outputSize=${show(this.outputSize)}`;
  }
}

/**
 * Maximum over all spatial positions: [N, C, H, W] -> [N, C, 1, 1] (or [N, C] with `flatten`), Keras'
 * GlobalMaxPooling2D. Equivalent to AdaptiveMaxPool2d(1).
 * @example new GlobalMaxPool2d({ flatten: true }).forward(x) // x [8, 512, 7, 7] -> [8, 512]
 */
export class GlobalMaxPool2d extends Module {
  readonly flatten: boolean;

  constructor(options: GlobalAvgPool2dOptions = {}) {
    super();
    checkOptionKeys(new.target.name, options, ["flatten"]);
    this.flatten = options.flatten ?? false;
  }

  forward(x: Tensor): Tensor {
    check4d("GlobalMaxPool2d", x);
    const y = globalMaxPool2d(x);
    return this.flatten ? flatten(y, 1) : y;
  }

  override extraRepr(): string {
    return this.flatten ? "flatten=true" : "";
  }
}
