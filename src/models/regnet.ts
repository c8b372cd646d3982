// RegNet (Radosavovic et al. 2020, "Designing network design spaces"): instead of searching for one network,
// the authors narrowed a whole space of ResNeXt-like networks to the simple rule that good ones follow —
// stage widths grow roughly linearly with depth, quantised to a few stages — and read each model off that
// rule at a given compute budget. RegNetY adds squeeze-and-excitation to every block. regnet_y_400mf: 4
// stages of 1, 3, 6, 6 grouped bottleneck blocks (group width 8) at widths 48, 104, 208, 440; 4.3M
// parameters, 0.40 GMACs at 224x224.

import type { Tensor } from "../tensor/tensor.js";
import { add } from "../ops/elementwise.js";
import { flatten } from "../ops/movement.js";
import { Module, Sequential, AdaptiveAvgPool2d, Linear, ReLU } from "../nn/index.js";
import { initialize, layerOptions, NamedSequential, type LayerOptions, type ModelOptions } from "./common.js";
import { convBnAct } from "./mobilenet.js";
import { SqueezeExcitation } from "./senet.js";

/** A RegNet's per-stage settings, as torchvision's BlockParams derives them from (depth, w0, wa, wm). */
export interface RegNetConfig {
  /** Blocks per stage. */
  depths: readonly number[];
  /** Output channels per stage. */
  widths: readonly number[];
  /** Channels per group of the 3x3 convolution. */
  groupWidth: number;
  /** Bottleneck width / block width (1 in the RegNetX/Y models torchvision ships). */
  bottleneckMultiplier?: number;
  /** SE squeeze channels = round(seRatio · block input channels); undefined for RegNetX (no SE). */
  seRatio?: number;
  /** Stem output channels. Default 32. */
  stemWidth?: number;
}

/**
 * regnet_y_400mf: what torchvision's `BlockParams.from_init_params(depth=16, w_0=48, w_a=27.89, w_m=2.09,
 * group_width=8, se_ratio=0.25)` computes (its widths are quantised in float32 torch ops, so the result is
 * listed rather than recomputed).
 */
export const REGNET_Y_400MF: RegNetConfig = {
  depths: [1, 3, 6, 6],
  widths: [48, 104, 208, 440],
  groupWidth: 8,
  seRatio: 0.25,
};

/**
 * RegNet's residual block (torchvision's `ResBottleneckBlock`): `f` = 1x1 conv `a`, grouped 3x3 conv `b`
 * (stride), [SE gate `se`], 1x1 conv `c` (each + BN, ReLU except after `c`); a 1x1 projection `proj` + BN on
 * the shortcut when the shape changes; ReLU after the addition.
 */
export class ResBottleneckBlock extends Module {
  proj: Sequential | null;
  f: NamedSequential;
  activation: ReLU;

  constructor(
    inChannels: number,
    outChannels: number,
    stride: number,
    config: RegNetConfig,
    o: LayerOptions,
  ) {
    super();
    this.proj =
      inChannels !== outChannels || stride !== 1
        ? convBnAct(inChannels, outChannels, 1, { ...o, stride, activation: "none" })
        : null;
    const bottleneck = Math.round(outChannels * (config.bottleneckMultiplier ?? 1));
    const groups = Math.floor(bottleneck / config.groupWidth);
    this.f = new NamedSequential([
      ["a", convBnAct(inChannels, bottleneck, 1, { ...o, activation: "relu" })],
      ["b", convBnAct(bottleneck, bottleneck, 3, { ...o, stride, groups, activation: "relu" })],
    ]);
    if (config.seRatio) {
      this.f.add("se", new SqueezeExcitation(bottleneck, Math.round(config.seRatio * inChannels), o));
    }
    this.f.add("c", convBnAct(bottleneck, outChannels, 1, { ...o, activation: "none" }));
    this.activation = new ReLU();
  }

  forward(x: Tensor): Tensor {
    // The shortcut first, as torchvision (`self.proj(x) + self.f(x)`): forward hooks fire in the same order.
    const shortcut = this.proj ? this.proj.forward(x) : x;
    return this.activation.forward(add(shortcut, this.f.forward(x)));
  }
}

/** Options of `regnet_y_400mf` (RegNet), beyond numClasses, inChannels, dtype, backend. */
export interface RegNetOptions extends ModelOptions {
  /** Stem conv with stride 1 instead of 2, for 32x32 images. */
  smallInput?: boolean;
}

/**
 * RegNet in torchvision's layout: `stem` (conv 3x3/2 + BN + ReLU), `trunk_output` with stages `block1` …
 * (blocks `block1-0`, …; the first of each stage has stride 2), global average pool, `fc`.
 * @example new RegNet(REGNET_Y_400MF).forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export class RegNet extends Module {
  stem: Sequential;
  trunk_output: NamedSequential;
  avgpool: AdaptiveAvgPool2d;
  fc: Linear;

  constructor(config: RegNetConfig, options: RegNetOptions = {}) {
    super();
    const o = layerOptions(options);
    let channels = config.stemWidth ?? 32;
    this.stem = convBnAct(options.inChannels ?? 3, channels, 3, {
      ...o,
      stride: options.smallInput ? 1 : 2,
      activation: "relu",
    });
    this.trunk_output = new NamedSequential();
    config.widths.forEach((width, i) => {
      const stage = new NamedSequential();
      for (let b = 0; b < config.depths[i]; b++) {
        stage.add(`block${i + 1}-${b}`, new ResBottleneckBlock(channels, width, b === 0 ? 2 : 1, config, o));
        channels = width;
      }
      this.trunk_output.add(`block${i + 1}`, stage);
    });
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.fc = new Linear(channels, options.numClasses ?? 1000, o);
    initialize(this, {
      conv: "kaimingNormalFanOut",
      batchNorm: true,
      linear: { normalStd: 0.01 },
      linearBiasZero: true,
    });
  }

  forward(x: Tensor): Tensor {
    const h = this.trunk_output.forward(this.stem.forward(x));
    return this.fc.forward(flatten(this.avgpool.forward(h), 1));
  }
}

/** RegNetY-400MF: 4.3M parameters, 0.40 GMACs at 224x224. */
export function regnetY400mf(options: RegNetOptions = {}): RegNet {
  return new RegNet(REGNET_Y_400MF, options);
}
