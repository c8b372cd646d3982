// VGG (Simonyan & Zisserman 2015, "Very deep convolutional networks for large-scale image recognition"):
// depth as the design variable. Only 3x3 convolutions (stride 1, padding 1) and 2x2 max pools: two stacked
// 3x3 layers see a 5x5 region and three see 7x7, with fewer parameters (27C² vs 49C²) and more
// non-linearities than one large filter. Configurations A, B, D, E are VGG-11/13/16/19; the _bn variants add
// batch normalisation after every convolution (not in the paper; torchvision's).

import type { Tensor } from "../tensor/tensor.js";
import {
  Module,
  Sequential,
  Conv2d,
  ReLU,
  MaxPool2d,
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Flatten,
  Linear,
  Dropout,
} from "../nn/index.js";
import { initialize, layerOptions } from "./common.js";
import type { AlexNetOptions } from "./alexnet.js";

/** Filters per 3x3 conv layer, 'M' for a 2x2 max pool (the paper's Table 1 columns). */
export const VGG_CONFIGS = {
  11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
  19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
} as const satisfies Record<number, readonly (number | "M")[]>;

export type VGGDepth = keyof typeof VGG_CONFIGS;

export interface VGGOptions extends AlexNetOptions {
  depth?: VGGDepth;
  batchNorm?: boolean;
}

/**
 * VGG-11/13/16/19 in torchvision's layout: `features` (conv, [bn,] relu …, pools), adaptive average pool to
 * 7x7, `classifier` Linear(25088, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU, Dropout, Linear(4096, n).
 * Initialised like torchvision: conv weights Kaiming-normal (fan out), linear N(0, 0.01²), biases 0.
 * @example new VGG({ depth: 16, batchNorm: true }).forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export class VGG extends Module {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  flatten: Flatten;
  classifier: Sequential;

  constructor(options: VGGOptions = {}) {
    super();
    const o = layerOptions(options);
    const config = VGG_CONFIGS[options.depth ?? 16];
    if (!config) throw new Error(`VGG: depth must be 11, 13, 16 or 19, got ${options.depth}`);
    this.features = new Sequential();
    let channels = options.inChannels ?? 3;
    for (const v of config) {
      if (v === "M") {
        this.features.append(new MaxPool2d(2, { stride: 2 }));
        continue;
      }
      this.features.append(new Conv2d(channels, v, 3, { ...o, padding: 1 }));
      if (options.batchNorm) this.features.append(new BatchNorm2d(v, o));
      this.features.append(new ReLU());
      channels = v;
    }
    this.avgpool = new AdaptiveAvgPool2d(7);
    this.flatten = new Flatten();
    const hidden = options.hiddenFeatures ?? 4096;
    const p = options.dropout ?? 0.5;
    this.classifier = new Sequential(
      new Linear(512 * 7 * 7, hidden, o),
      new ReLU(),
      new Dropout(p),
      new Linear(hidden, hidden, o),
      new ReLU(),
      new Dropout(p),
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
    return this.classifier.forward(this.flatten.forward(this.avgpool.forward(this.features.forward(x))));
  }
}
