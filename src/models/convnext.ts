// ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s"): a ResNet modernised step by step towards the
// Vision Transformer's design until it matched Swin's accuracy — a 4x4 stride-4 "patchify" stem, stage
// ratios 3:3:9:3, depthwise 7x7 convolutions (large kernels, like attention windows), an inverted
// bottleneck MLP (4x wider) with GELU, fewer normalisations and activations, LayerNorm instead of batch
// norm, separate 2x2 downsampling layers, per-channel layer scale (1e-6) on each residual branch and
// stochastic depth. convnext_tiny: 28.6M parameters, 4.5 GMACs at 224x224.

import type { Tensor } from "../tensor/tensor.js";
import { add, mul } from "../ops/elementwise.js";
import { permute } from "../ops/movement.js";
import {
  Module,
  Sequential,
  Conv2d,
  LayerNorm,
  LayerNorm2d,
  Linear,
  GELU,
  Flatten,
  AdaptiveAvgPool2d,
  StochasticDepth,
  Parameter,
  init,
} from "../nn/index.js";
import { empty } from "../nn/parameter.js";
import { initialize, layerOptions, type LayerOptions, type ModelOptions } from "./common.js";

/** Reorders dimensions (torchvision.ops.Permute): ConvNeXt's MLP runs channels-last. */
export class Permute extends Module {
  constructor(readonly dims: readonly number[]) {
    super();
  }

  forward(x: Tensor): Tensor {
    return permute(x, this.dims);
  }

  override extraRepr(): string {
    return JSON.stringify(this.dims);
  }
}

/**
 * ConvNeXt's block (torchvision's `CNBlock`): `block` = depthwise 7x7 conv, to channels-last, LayerNorm,
 * Linear to 4x, GELU, Linear back, to channels-first; times `layer_scale` [C, 1, 1]; stochastic depth;
 * plus the input.
 */
export class CNBlock extends Module {
  block: Sequential;
  layer_scale: Parameter;
  stochastic_depth: StochasticDepth;

  constructor(channels: number, layerScale: number, stochasticDepthProb: number, o: LayerOptions) {
    super();
    this.block = new Sequential(
      new Conv2d(channels, channels, 7, { ...o, padding: 3, groups: channels }),
      new Permute([0, 2, 3, 1]),
      new LayerNorm(channels, { ...o, eps: 1e-6 }),
      new Linear(channels, 4 * channels, o),
      new GELU(),
      new Linear(4 * channels, channels, o),
      new Permute([0, 3, 1, 2]),
    );
    this.layer_scale = new Parameter(empty([channels, 1, 1], o));
    if (this.layer_scale.backend.name !== "meta") init.constant_(this.layer_scale, layerScale);
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, { mode: "row" });
  }

  forward(x: Tensor): Tensor {
    const branch = mul(this.layer_scale, this.block.forward(x));
    return add(this.stochastic_depth.forward(branch), x);
  }
}

/** One stage: blocks at `channels`, then (unless last) a downsampling to `outChannels`. */
export interface ConvNeXtStage {
  channels: number;
  outChannels: number | null;
  layers: number;
}

/** ConvNeXt-T: widths 96-192-384-768, 3-3-9-3 blocks. */
export const CONVNEXT_TINY: readonly ConvNeXtStage[] = [
  { channels: 96, outChannels: 192, layers: 3 },
  { channels: 192, outChannels: 384, layers: 3 },
  { channels: 384, outChannels: 768, layers: 9 },
  { channels: 768, outChannels: null, layers: 3 },
];

/** Options of `convnext_tiny` (ConvNeXt), beyond numClasses, inChannels, dtype, backend. */
export interface ConvNeXtOptions extends ModelOptions {
  /** Stochastic depth rate of the last block, growing linearly from 0 at the first. Default 0.1 (tiny). */
  stochasticDepthProb?: number;
  /** Initial value of every block's per-channel layer scale. Default 1e-6. */
  layerScale?: number;
}

/**
 * ConvNeXt in torchvision's layout: `features` (stem: 4x4/4 conv + LayerNorm2d; stages of CNBlocks, each but
 * the last followed by LayerNorm2d + 2x2/2 conv), global average pool, `classifier` (LayerNorm2d, Flatten,
 * Linear). Conv and linear weights are truncated-normal (std 0.02), biases zero, as torchvision's.
 * @example new ConvNeXt().forward(x) // convnext_tiny: x [N, 3, 224, 224] -> [N, 1000]
 */
export class ConvNeXt extends Module {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  classifier: Sequential;

  constructor(options: ConvNeXtOptions = {}, stages: readonly ConvNeXtStage[] = CONVNEXT_TINY) {
    super();
    const o = layerOptions(options);
    const norm = (c: number) => new LayerNorm2d(c, { ...o, eps: 1e-6 });
    const first = stages[0].channels;
    this.features = new Sequential(
      new Sequential(new Conv2d(options.inChannels ?? 3, first, 4, { ...o, stride: 4 }), norm(first)),
    );
    const total = stages.reduce((n, s) => n + s.layers, 0);
    const maxProb = options.stochasticDepthProb ?? 0.1;
    let blockIndex = 0;
    for (const stage of stages) {
      const blocks = new Sequential();
      for (let i = 0; i < stage.layers; i++) {
        const prob = (maxProb * blockIndex++) / (total - 1);
        blocks.append(new CNBlock(stage.channels, options.layerScale ?? 1e-6, prob, o));
      }
      this.features.append(blocks);
      if (stage.outChannels !== null) {
        this.features.append(
          new Sequential(
            norm(stage.channels),
            new Conv2d(stage.channels, stage.outChannels, 2, { ...o, stride: 2 }),
          ),
        );
      }
    }
    const last = stages[stages.length - 1];
    const lastChannels = last.outChannels ?? last.channels;
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.classifier = new Sequential(
      norm(lastChannels),
      new Flatten(1),
      new Linear(lastChannels, options.numClasses ?? 1000, o),
    );
    initialize(this, { truncNormalStd: 0.02 });
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.avgpool.forward(this.features.forward(x)));
  }
}

/** ConvNeXt-T: 28.6M parameters, 4.5 GMACs at 224x224. */
export function convnextTiny(options: ConvNeXtOptions = {}): ConvNeXt {
  return new ConvNeXt(options);
}
