// MobileNets for phones. v1 (Howard et al. 2017, "MobileNets: efficient convolutional neural networks for
// mobile vision applications") factors each 3x3 convolution into a depthwise 3x3 (one filter per channel,
// groups = channels) and a pointwise 1x1 that mixes channels: 9·C + C·C' instead of 9·C·C' multiplies per
// pixel, 8-9x fewer. v2 (Sandler et al. 2018, "MobileNetV2: inverted residuals and linear bottlenecks")
// wraps the depthwise conv in an "inverted residual": expand a thin tensor by 6 with a 1x1, filter it
// depthwise, project it back with a linear 1x1 (no ReLU, which would destroy information in few channels),
// and add a shortcut between the thin ends.

import type { Tensor } from "../tensor/tensor.js";
import { add } from "../ops/elementwise.js";
import { flatten } from "../ops/movement.js";
import { adaptiveAvgPool2d } from "../ops/pool.js";
import { Module, Sequential, Conv2d, BatchNorm2d, ReLU, ReLU6, Dropout, Linear } from "../nn/index.js";
import { initialize, layerOptions, type LayerOptions, type ModelOptions } from "./common.js";

/**
 * Conv (no bias, "same" padding for odd kernels) + batch norm + activation, as torchvision's
 * Conv2dNormActivation: a Sequential, so its keys are `0.weight` (conv), `1.*` (bn).
 */
export function convBnAct(
  inChannels: number,
  outChannels: number,
  kernelSize: number,
  o: LayerOptions & { stride?: number; groups?: number; activation?: "relu" | "relu6" },
): Sequential {
  const conv = new Conv2d(inChannels, outChannels, kernelSize, {
    dtype: o.dtype,
    backend: o.backend,
    stride: o.stride ?? 1,
    padding: (kernelSize - 1) / 2,
    groups: o.groups ?? 1,
    bias: false,
  });
  const act = o.activation === "relu" ? new ReLU() : new ReLU6();
  return new Sequential(conv, new BatchNorm2d(outChannels, { dtype: o.dtype, backend: o.backend }), act);
}

/** MobileNet v1's block: depthwise 3x3 (stride) + BN + ReLU, then pointwise 1x1 + BN + ReLU. */
export class DepthwiseSeparableConv extends Module {
  depthwise: Sequential;
  pointwise: Sequential;

  constructor(inChannels: number, outChannels: number, stride: number, o: LayerOptions) {
    super();
    this.depthwise = convBnAct(inChannels, inChannels, 3, {
      ...o,
      stride,
      groups: inChannels,
      activation: "relu",
    });
    this.pointwise = convBnAct(inChannels, outChannels, 1, { ...o, activation: "relu" });
  }

  forward(x: Tensor): Tensor {
    return this.pointwise.forward(this.depthwise.forward(x));
  }
}

export interface MobileNetOptions extends ModelOptions {
  /** Width multiplier alpha: every layer gets alpha times the channels (1.0, 0.75, 0.5, 0.25 in v1). */
  widthMultiplier?: number;
  /** Dropout before the classifier (0.2 in torchvision's v2; v1 uses none by default). */
  dropout?: number;
  /** First conv with stride 1 instead of 2, for 32x32 images. */
  smallInput?: boolean;
}

/** v1's body after the stem: [output channels, stride] per depthwise-separable block (the paper's Table 1). */
export const MOBILENET_V1_BLOCKS: readonly [number, number][] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

/**
 * MobileNet v1: conv 3x3/2 with 32 filters, 13 depthwise-separable blocks, global average pool, fc.
 * 4.2M parameters and 569M multiply-adds at 224x224 (alpha = 1).
 * @example new MobileNetV1().forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export class MobileNetV1 extends Module {
  features: Sequential;
  dropout: Dropout;
  fc: Linear;

  constructor(options: MobileNetOptions = {}) {
    super();
    const o = layerOptions(options);
    const alpha = options.widthMultiplier ?? 1;
    const width = (c: number) => Math.max(8, Math.round(c * alpha));
    let channels = width(32);
    this.features = new Sequential(
      convBnAct(options.inChannels ?? 3, channels, 3, {
        ...o,
        stride: options.smallInput ? 1 : 2,
        activation: "relu",
      }),
    );
    for (const [out, stride] of MOBILENET_V1_BLOCKS) {
      this.features.append(new DepthwiseSeparableConv(channels, width(out), stride, o));
      channels = width(out);
    }
    this.dropout = new Dropout(options.dropout ?? 0);
    this.fc = new Linear(channels, options.numClasses ?? 1000, o);
    initialize(this, {
      conv: "kaimingNormalFanOut",
      batchNorm: true,
      linear: { normalStd: 0.01 },
      linearBiasZero: true,
    });
  }

  forward(x: Tensor): Tensor {
    const h = flatten(adaptiveAvgPool2d(this.features.forward(x), [1, 1]), 1);
    return this.fc.forward(this.dropout.forward(h));
  }
}

/**
 * v2's inverted residual: [1x1 expand + BN + ReLU6], 3x3 depthwise (stride) + BN + ReLU6, 1x1 linear
 * projection + BN; the input is added when stride is 1 and the channel counts match.
 */
export class InvertedResidual extends Module {
  readonly useResidual: boolean;
  conv: Sequential;

  constructor(inChannels: number, outChannels: number, stride: number, expandRatio: number, o: LayerOptions) {
    super();
    const hidden = Math.round(inChannels * expandRatio);
    this.useResidual = stride === 1 && inChannels === outChannels;
    this.conv = new Sequential();
    if (expandRatio !== 1) this.conv.append(convBnAct(inChannels, hidden, 1, o));
    this.conv.append(convBnAct(hidden, hidden, 3, { ...o, stride, groups: hidden }));
    this.conv.append(new Conv2d(hidden, outChannels, 1, { ...o, bias: false }));
    this.conv.append(new BatchNorm2d(outChannels, o));
  }

  forward(x: Tensor): Tensor {
    const out = this.conv.forward(x);
    return this.useResidual ? add(x, out) : out;
  }
}

/** Rounds channels to a multiple of 8 without dropping below 90% (torchvision's _make_divisible). */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(
    divisor,
    Math.floor(value + divisor / 2) - (Math.floor(value + divisor / 2) % divisor),
  );
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/** v2's stages: expansion t, output channels c, repeats n, first stride s (the paper's Table 2). */
export const MOBILENET_V2_SETTINGS: readonly [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/**
 * MobileNet v2 in torchvision's layout: `features` (stem conv 3x3/2 with 32 filters, 17 inverted residuals,
 * conv 1x1 to 1280), global average pool, `classifier` (Dropout 0.2, Linear). 3.5M parameters, 300M MACs.
 * @example new MobileNetV2().forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export class MobileNetV2 extends Module {
  features: Sequential;
  classifier: Sequential;

  constructor(options: MobileNetOptions = {}) {
    super();
    const o = layerOptions(options);
    const alpha = options.widthMultiplier ?? 1;
    let channels = makeDivisible(32 * alpha);
    const lastChannels = makeDivisible(1280 * Math.max(1, alpha));
    this.features = new Sequential(
      convBnAct(options.inChannels ?? 3, channels, 3, { ...o, stride: options.smallInput ? 1 : 2 }),
    );
    for (const [t, c, n, s] of MOBILENET_V2_SETTINGS) {
      const out = makeDivisible(c * alpha);
      for (let i = 0; i < n; i++) {
        this.features.append(new InvertedResidual(channels, out, i === 0 ? s : 1, t, o));
        channels = out;
      }
    }
    this.features.append(convBnAct(channels, lastChannels, 1, o));
    this.classifier = new Sequential(
      new Dropout(options.dropout ?? 0.2),
      new Linear(lastChannels, options.numClasses ?? 1000, o),
    );
    initialize(this, {
      conv: "kaimingNormalFanOut",
      batchNorm: true,
      linear: { normalStd: 0.01 },
      linearBiasZero: true,
    });
  }

  forward(x: Tensor): Tensor {
    const h = flatten(adaptiveAvgPool2d(this.features.forward(x), [1, 1]), 1);
    return this.classifier.forward(h);
  }
}
