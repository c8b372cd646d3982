// MnasNet (Tan et al. 2019, "MnasNet: platform-aware neural architecture search for mobile"): the first
// network searched with measured phone latency in the reward. Its search space is factorised per stage
// (each stage picks its own kernel size, expansion and repeats), so the result mixes 3x3 and 5x5 depthwise
// kernels and expansion 3 and 6, where MobileNet v2 used one recipe throughout. torchvision's mnasnet1_0
// is the B1 variant without squeeze-and-excitation: 4.4M parameters, 0.31 GMACs at 224x224.

import type { Tensor } from "../tensor/tensor.js";
import { add } from "../ops/elementwise.js";
import { mean } from "../ops/reduce.js";
import { Module, Sequential, Conv2d, BatchNorm2d, ReLU, Dropout, Linear, init } from "../nn/index.js";
import { initialize, layerOptions, type LayerOptions, type ModelOptions } from "./common.js";

/** torchvision's MNASNet batch norms keep running statistics with momentum 1 - 0.9997 (TensorFlow's decay). */
const BN_MOMENTUM = 1 - 0.9997;

function batchNorm(channels: number, o: LayerOptions): BatchNorm2d {
  return new BatchNorm2d(channels, { ...o, momentum: BN_MOMENTUM });
}

/**
 * MnasNet's inverted residual (torchvision's `_InvertedResidual`, keys `layers.0` … `layers.7`): 1x1 expand
 * + BN + ReLU, depthwise k x k (stride) + BN + ReLU, 1x1 linear projection + BN; the input is added when
 * stride is 1 and the channels match.
 */
export class MnasInvertedResidual extends Module {
  readonly useResidual: boolean;
  layers: Sequential;

  constructor(
    inChannels: number,
    outChannels: number,
    kernel: number,
    stride: number,
    expansion: number,
    o: LayerOptions,
  ) {
    super();
    const mid = inChannels * expansion;
    this.useResidual = inChannels === outChannels && stride === 1;
    this.layers = new Sequential(
      new Conv2d(inChannels, mid, 1, { ...o, bias: false }),
      batchNorm(mid, o),
      new ReLU(),
      new Conv2d(mid, mid, kernel, { ...o, padding: (kernel - 1) / 2, stride, groups: mid, bias: false }),
      batchNorm(mid, o),
      new ReLU(),
      new Conv2d(mid, outChannels, 1, { ...o, bias: false }),
      batchNorm(outChannels, o),
    );
  }

  forward(x: Tensor): Tensor {
    const out = this.layers.forward(x);
    return this.useResidual ? add(out, x) : out;
  }
}

/** MnasNet-B1's stacks: [kernel, stride, expansion, repeats] for the outputs of depths[2..7]. */
export const MNASNET_STACKS: readonly [number, number, number, number][] = [
  [3, 2, 3, 3],
  [5, 2, 3, 3],
  [5, 2, 6, 3],
  [3, 1, 6, 2],
  [5, 2, 6, 4],
  [3, 1, 6, 1],
];

/**
 * The nearest multiple of `divisor`, one multiple higher if that fell below 90% of the value (torchvision's
 * `_round_to_multiple_of`: (83, 8) -> 80, (84, 8) -> 88).
 */
function roundToMultipleOf(value: number, divisor: number): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded >= 0.9 * value ? rounded : rounded + divisor;
}

/** Options of `mnasnet1_0` (MNASNet), beyond numClasses, inChannels, dtype, backend. */
export interface MNASNetOptions extends ModelOptions {
  /** Depth multiplier alpha on every layer's channels (torchvision's `alpha`; 1.0 for mnasnet1_0). */
  widthMultiplier?: number;
  /** Dropout before the classifier. Default 0.2. */
  dropout?: number;
  /** First conv with stride 1 instead of 2, for 32x32 images. */
  smallInput?: boolean;
}

/**
 * MNASNet (B1) in torchvision's layout: `layers` (conv 3x3/2 + BN + ReLU, depthwise 3x3 + BN + ReLU, 1x1 +
 * BN, six stacks of inverted residuals, 1x1 conv to 1280 + BN + ReLU), mean over H and W, `classifier`
 * (Dropout, Linear).
 * @example new MNASNet().forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export class MNASNet extends Module {
  layers: Sequential;
  classifier: Sequential;

  constructor(options: MNASNetOptions = {}) {
    super();
    const o = layerOptions(options);
    const alpha = options.widthMultiplier ?? 1;
    const d = [32, 16, 24, 40, 80, 96, 192, 320].map((c) => roundToMultipleOf(c * alpha, 8));
    this.layers = new Sequential(
      new Conv2d(options.inChannels ?? 3, d[0], 3, {
        ...o,
        padding: 1,
        stride: options.smallInput ? 1 : 2,
        bias: false,
      }),
      batchNorm(d[0], o),
      new ReLU(),
      new Conv2d(d[0], d[0], 3, { ...o, padding: 1, groups: d[0], bias: false }),
      batchNorm(d[0], o),
      new ReLU(),
      new Conv2d(d[0], d[1], 1, { ...o, bias: false }),
      batchNorm(d[1], o),
    );
    MNASNET_STACKS.forEach(([kernel, stride, expansion, repeats], i) => {
      const stack = new Sequential(
        new MnasInvertedResidual(d[i + 1], d[i + 2], kernel, stride, expansion, o),
      );
      for (let r = 1; r < repeats; r++) {
        stack.append(new MnasInvertedResidual(d[i + 2], d[i + 2], kernel, 1, expansion, o));
      }
      this.layers.append(stack);
    });
    this.layers.append(new Conv2d(d[7], 1280, 1, { ...o, bias: false }));
    this.layers.append(batchNorm(1280, o));
    this.layers.append(new ReLU());
    this.classifier = new Sequential(
      new Dropout(options.dropout ?? 0.2),
      new Linear(1280, options.numClasses ?? 1000, o),
    );
    initialize(this, {
      conv: "kaimingNormalFanOut",
      convBiasZero: true,
      batchNorm: true,
      linearBiasZero: true,
    });
    // torchvision: kaiming_uniform_(mode="fan_out", nonlinearity="sigmoid") for the classifier.
    const fc = this.classifier.at(1) as Linear;
    if (fc.weight.backend.name !== "meta") {
      init.kaimingUniform_(fc.weight, { mode: "fanOut", nonlinearity: "sigmoid" });
    }
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(mean(this.layers.forward(x), [2, 3]));
  }
}
