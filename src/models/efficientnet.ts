// EfficientNet (Tan & Le 2019, "EfficientNet: rethinking model scaling for convolutional neural networks"):
// a baseline found by architecture search (B0: MobileNet v2-style inverted residuals, "MBConv", with
// squeeze-and-excitation and the SiLU/swish activation), then scaled up in depth, width and resolution
// together by one compound coefficient instead of one dimension at a time. Residual branches are dropped at
// random in training (stochastic depth), with a drop rate growing linearly from 0 to 0.2 over the blocks.
// B0 has 5.3M parameters and 0.39 GMACs at 224x224.

import type { Tensor } from "../tensor/tensor.js";
import { add } from "../ops/elementwise.js";
import { flatten } from "../ops/movement.js";
import {
  Module,
  Sequential,
  AdaptiveAvgPool2d,
  Dropout,
  Linear,
  StochasticDepth,
  init,
} from "../nn/index.js";
import { initialize, layerOptions, type LayerOptions, type ModelOptions } from "./common.js";
import { convBnAct, makeDivisible } from "./mobilenet.js";
import { SqueezeExcitation } from "./senet.js";

/** One stage of the paper's Table 1 (torchvision's MBConvConfig), before width and depth scaling. */
export interface MBConvStage {
  expandRatio: number;
  kernel: 3 | 5;
  stride: 1 | 2;
  inChannels: number;
  outChannels: number;
  layers: number;
}

/**
 * MBConv (torchvision's `MBConv`, keys `block.0` …): [1x1 expand + BN + SiLU], depthwise k x k (stride) +
 * BN + SiLU, SE gate (squeezing to a quarter of the block's *input* channels, SiLU inside), 1x1 linear
 * projection + BN. With stride 1 and equal channels the branch passes stochastic depth and is added to
 * the input.
 */
export class MBConv extends Module {
  readonly useResidual: boolean;
  block: Sequential;
  stochastic_depth: StochasticDepth;

  constructor(
    inChannels: number,
    outChannels: number,
    stage: Pick<MBConvStage, "expandRatio" | "kernel" | "stride">,
    stochasticDepthProb: number,
    o: LayerOptions,
  ) {
    super();
    this.useResidual = stage.stride === 1 && inChannels === outChannels;
    const expanded = makeDivisible(inChannels * stage.expandRatio);
    this.block = new Sequential();
    if (expanded !== inChannels) {
      this.block.append(convBnAct(inChannels, expanded, 1, { ...o, activation: "silu" }));
    }
    this.block.append(
      convBnAct(expanded, expanded, stage.kernel, {
        ...o,
        stride: stage.stride,
        groups: expanded,
        activation: "silu",
      }),
    );
    const squeeze = Math.max(1, Math.floor(inChannels / 4));
    this.block.append(new SqueezeExcitation(expanded, squeeze, { ...o, activation: "silu" }));
    this.block.append(convBnAct(expanded, outChannels, 1, { ...o, activation: "none" }));
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, { mode: "row" });
  }

  forward(x: Tensor): Tensor {
    const out = this.block.forward(x);
    return this.useResidual ? add(this.stochastic_depth.forward(out), x) : out;
  }
}

/** EfficientNet-B0's stages (the paper's Table 1, stages 2-8). */
export const EFFICIENTNET_B0: readonly MBConvStage[] = [
  { expandRatio: 1, kernel: 3, stride: 1, inChannels: 32, outChannels: 16, layers: 1 },
  { expandRatio: 6, kernel: 3, stride: 2, inChannels: 16, outChannels: 24, layers: 2 },
  { expandRatio: 6, kernel: 5, stride: 2, inChannels: 24, outChannels: 40, layers: 2 },
  { expandRatio: 6, kernel: 3, stride: 2, inChannels: 40, outChannels: 80, layers: 3 },
  { expandRatio: 6, kernel: 5, stride: 1, inChannels: 80, outChannels: 112, layers: 3 },
  { expandRatio: 6, kernel: 5, stride: 2, inChannels: 112, outChannels: 192, layers: 4 },
  { expandRatio: 6, kernel: 3, stride: 1, inChannels: 192, outChannels: 320, layers: 1 },
];

/** Options of `efficientnet_b0` (EfficientNet), beyond numClasses, inChannels, dtype, backend. */
export interface EfficientNetOptions extends ModelOptions {
  /** Channels per stage times this (rounded to a multiple of 8). Default 1 (B0). */
  widthMultiplier?: number;
  /** Blocks per stage times this (rounded up). Default 1 (B0). */
  depthMultiplier?: number;
  /** Dropout before the classifier. Default 0.2 (B0). */
  dropout?: number;
  /** Stochastic depth rate of the last block; block i of n gets stochasticDepthProb · i / n. Default 0.2. */
  stochasticDepthProb?: number;
  /** Stem conv with stride 1 instead of 2, for 32x32 images. */
  smallInput?: boolean;
}

/**
 * EfficientNet (B0 by default) in torchvision's layout: `features` (stem conv 3x3/2 + BN + SiLU, one
 * Sequential of MBConv blocks per stage, 1x1 conv to 4x the last width + BN + SiLU), global average pool,
 * `classifier` (Dropout, Linear).
 * @example new EfficientNet().forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export class EfficientNet extends Module {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  classifier: Sequential;

  constructor(options: EfficientNetOptions = {}, stages: readonly MBConvStage[] = EFFICIENTNET_B0) {
    super();
    const o = layerOptions(options);
    const width = (c: number) => makeDivisible(c * (options.widthMultiplier ?? 1));
    const depth = (n: number) => Math.ceil(n * (options.depthMultiplier ?? 1));
    const stem = width(stages[0].inChannels);
    this.features = new Sequential(
      convBnAct(options.inChannels ?? 3, stem, 3, {
        ...o,
        stride: options.smallInput ? 1 : 2,
        activation: "silu",
      }),
    );
    const total = stages.reduce((n, s) => n + depth(s.layers), 0);
    const maxProb = options.stochasticDepthProb ?? 0.2;
    let blockIndex = 0;
    let channels = stem;
    for (const stage of stages) {
      const out = width(stage.outChannels);
      const blocks = new Sequential();
      for (let i = 0; i < depth(stage.layers); i++) {
        const stride = i === 0 ? stage.stride : 1;
        const prob = (maxProb * blockIndex++) / total;
        blocks.append(new MBConv(channels, out, { ...stage, stride }, prob, o));
        channels = out;
      }
      this.features.append(blocks);
    }
    this.features.append(convBnAct(channels, 4 * channels, 1, { ...o, activation: "silu" }));
    this.avgpool = new AdaptiveAvgPool2d(1);
    const classes = options.numClasses ?? 1000;
    this.classifier = new Sequential(
      new Dropout(options.dropout ?? 0.2),
      new Linear(4 * channels, classes, o),
    );
    initialize(this, {
      conv: "kaimingNormalFanOut",
      convBiasZero: true,
      batchNorm: true,
      linearBiasZero: true,
    });
    // torchvision draws the classifier from U(±1/sqrt(out_features)).
    const fc = this.classifier.at(1) as Linear;
    if (fc.weight.backend.name !== "meta")
      init.uniform_(fc.weight, -1 / Math.sqrt(classes), 1 / Math.sqrt(classes));
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(flatten(this.avgpool.forward(this.features.forward(x)), 1));
  }
}

/** EfficientNet-B0: 5.3M parameters, 0.39 GMACs at 224x224. */
export function efficientnetB0(options: EfficientNetOptions = {}): EfficientNet {
  return new EfficientNet(options);
}
