// MobileNet v3 (Howard et al. 2019, "Searching for MobileNetV3"): MobileNet v2's inverted residuals, with the
// per-block kernel sizes, widths and squeeze-and-excitation placement found by platform-aware architecture
// search (MnasNet's method) and then trimmed by NetAdapt, plus two hand-made changes: the hard-swish
// activation x·relu6(x+3)/6 (swish without the exponential) in the deeper half, and a cheaper head that
// pools before the last 1x1 expansion. The SE gates use a hard sigmoid. Large (5.5M parameters, 217M MACs)
// and Small (2.5M, 57M) are two searches for different latency targets.

import type { Tensor } from "../tensor/tensor.js";
import { add } from "../ops/elementwise.js";
import { flatten } from "../ops/movement.js";
import { Module, Sequential, AdaptiveAvgPool2d, Dropout, Hardswish, Linear } from "../nn/index.js";
import { initialize, layerOptions, type LayerOptions, type ModelOptions } from "./common.js";
import { convBnAct, makeDivisible } from "./mobilenet.js";
import { SqueezeExcitation } from "./senet.js";

/** One row of the paper's Tables 1 and 2 (torchvision's InvertedResidualConfig), before width scaling. */
export interface MobileNetV3Block {
  inChannels: number;
  kernel: 3 | 5;
  expandedChannels: number;
  outChannels: number;
  squeezeExcitation: boolean;
  activation: "relu" | "hardswish";
  stride: 1 | 2;
}

/** torchvision's MobileNet v3 batch norms: eps 0.001, momentum 0.01. */
const BN = { eps: 0.001, momentum: 0.01 };

/**
 * v3's inverted residual (torchvision's `InvertedResidual`, keys `block.0` …): [1x1 expand + BN + act],
 * depthwise k x k (stride) + BN + act, [SE gate with a hard sigmoid], 1x1 linear projection + BN; the input
 * is added when stride is 1 and the channels match.
 */
export class MobileNetV3InvertedResidual extends Module {
  readonly useResidual: boolean;
  block: Sequential;

  constructor(config: MobileNetV3Block, o: LayerOptions) {
    super();
    const { inChannels, expandedChannels: expanded, outChannels, activation } = config;
    this.useResidual = config.stride === 1 && inChannels === outChannels;
    this.block = new Sequential();
    if (expanded !== inChannels) {
      this.block.append(convBnAct(inChannels, expanded, 1, { ...o, ...BN, activation }));
    }
    this.block.append(
      convBnAct(expanded, expanded, config.kernel, {
        ...o,
        ...BN,
        stride: config.stride,
        groups: expanded,
        activation,
      }),
    );
    if (config.squeezeExcitation) {
      const squeeze = makeDivisible(Math.floor(expanded / 4), 8);
      this.block.append(new SqueezeExcitation(expanded, squeeze, { ...o, scaleActivation: "hardsigmoid" }));
    }
    this.block.append(convBnAct(expanded, outChannels, 1, { ...o, ...BN, activation: "none" }));
  }

  forward(x: Tensor): Tensor {
    const out = this.block.forward(x);
    return this.useResidual ? add(out, x) : out;
  }
}

type Row = [number, 3 | 5, number, number, boolean, "RE" | "HS", 1 | 2];

function blocks(rows: Row[]): MobileNetV3Block[] {
  return rows.map(([inChannels, kernel, expandedChannels, outChannels, se, act, stride]) => ({
    inChannels,
    kernel,
    expandedChannels,
    outChannels,
    squeezeExcitation: se,
    activation: act === "HS" ? "hardswish" : "relu",
    stride,
  }));
}

/** MobileNet v3 Large: the paper's Table 1 (input, kernel, expanded, output, SE, activation, stride). */
export const MOBILENET_V3_LARGE: readonly MobileNetV3Block[] = blocks([
  [16, 3, 16, 16, false, "RE", 1],
  [16, 3, 64, 24, false, "RE", 2],
  [24, 3, 72, 24, false, "RE", 1],
  [24, 5, 72, 40, true, "RE", 2],
  [40, 5, 120, 40, true, "RE", 1],
  [40, 5, 120, 40, true, "RE", 1],
  [40, 3, 240, 80, false, "HS", 2],
  [80, 3, 200, 80, false, "HS", 1],
  [80, 3, 184, 80, false, "HS", 1],
  [80, 3, 184, 80, false, "HS", 1],
  [80, 3, 480, 112, true, "HS", 1],
  [112, 3, 672, 112, true, "HS", 1],
  [112, 5, 672, 160, true, "HS", 2],
  [160, 5, 960, 160, true, "HS", 1],
  [160, 5, 960, 160, true, "HS", 1],
]);

/** MobileNet v3 Small: the paper's Table 2. */
export const MOBILENET_V3_SMALL: readonly MobileNetV3Block[] = blocks([
  [16, 3, 16, 16, true, "RE", 2],
  [16, 3, 72, 24, false, "RE", 2],
  [24, 3, 88, 24, false, "RE", 1],
  [24, 5, 96, 40, true, "HS", 2],
  [40, 5, 240, 40, true, "HS", 1],
  [40, 5, 240, 40, true, "HS", 1],
  [40, 5, 120, 48, true, "HS", 1],
  [48, 5, 144, 48, true, "HS", 1],
  [48, 5, 288, 96, true, "HS", 2],
  [96, 5, 576, 96, true, "HS", 1],
  [96, 5, 576, 96, true, "HS", 1],
]);

/** Options of `mobilenet_v3_small` / `mobilenet_v3_large` (MobileNetV3), beyond numClasses, inChannels, dtype, backend. */
export interface MobileNetV3Options extends ModelOptions {
  /** Width multiplier: every block's channels times this, rounded to a multiple of 8. Default 1. */
  widthMultiplier?: number;
  /** Dropout between the two classifier layers. Default 0.2. */
  dropout?: number;
  /** Stem conv with stride 1 instead of 2, for 32x32 images. */
  smallInput?: boolean;
}

/**
 * MobileNet v3 in torchvision's layout: `features` (stem conv 3x3/2 + BN + hard-swish, the inverted
 * residuals, 1x1 conv to 6x the last width), global average pool, `classifier` (Linear to `lastChannels`,
 * hard-swish, dropout, Linear).
 * @example new MobileNetV3(MOBILENET_V3_SMALL, 1024).forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export class MobileNetV3 extends Module {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  classifier: Sequential;

  constructor(settings: readonly MobileNetV3Block[], lastChannels: number, options: MobileNetV3Options = {}) {
    super();
    const o = layerOptions(options);
    const alpha = options.widthMultiplier ?? 1;
    const width = (c: number) => makeDivisible(c * alpha);
    const scaled = settings.map((b) => ({
      ...b,
      inChannels: width(b.inChannels),
      expandedChannels: width(b.expandedChannels),
      outChannels: width(b.outChannels),
    }));
    this.features = new Sequential(
      convBnAct(options.inChannels ?? 3, scaled[0].inChannels, 3, {
        ...o,
        ...BN,
        stride: options.smallInput ? 1 : 2,
        activation: "hardswish",
      }),
    );
    for (const block of scaled) this.features.append(new MobileNetV3InvertedResidual(block, o));
    const last = scaled[scaled.length - 1].outChannels;
    this.features.append(convBnAct(last, 6 * last, 1, { ...o, ...BN, activation: "hardswish" }));
    this.avgpool = new AdaptiveAvgPool2d(1);
    const hidden = width(lastChannels);
    this.classifier = new Sequential(
      new Linear(6 * last, hidden, o),
      new Hardswish(),
      new Dropout(options.dropout ?? 0.2),
      new Linear(hidden, options.numClasses ?? 1000, o),
    );
    initialize(this, {
      conv: "kaimingNormalFanOut",
      convBiasZero: true,
      batchNorm: true,
      linear: { normalStd: 0.01 },
      linearBiasZero: true,
    });
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(flatten(this.avgpool.forward(this.features.forward(x)), 1));
  }
}

/** MobileNet v3 Large: 5.5M parameters, 217M MACs at 224x224. */
export function mobilenetV3Large(options: MobileNetV3Options = {}): MobileNetV3 {
  return new MobileNetV3(MOBILENET_V3_LARGE, 1280, options);
}

/** MobileNet v3 Small: 2.5M parameters, 57M MACs at 224x224. */
export function mobilenetV3Small(options: MobileNetV3Options = {}): MobileNetV3 {
  return new MobileNetV3(MOBILENET_V3_SMALL, 1024, options);
}
