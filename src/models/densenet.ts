// DenseNet (Huang, Liu, van der Maaten & Weinberger 2017, "Densely connected convolutional networks"):
// inside a dense block every layer receives the concatenation of all earlier feature maps and adds only
// `growthRate` (32) new ones. Features are reused instead of relearned, so the network is narrow and
// parameter-efficient (DenseNet-121: 8.0M parameters), and every layer has a short path to the loss.
// Each layer is BN-ReLU-conv1x1 (bottleneck to 4·growth channels)-BN-ReLU-conv3x3; transition layers
// between blocks halve the channels with a 1x1 conv and the resolution with 2x2 average pooling.

import type { Tensor } from "../tensor/tensor.js";
import { concat, flatten } from "../ops/movement.js";
import { relu } from "../ops/activations.js";
import { dropout } from "../ops/dropout.js";
import { adaptiveAvgPool2d } from "../ops/pool.js";
import { Module, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Linear } from "../nn/index.js";
import { initialize, layerOptions, NamedSequential, type LayerOptions, type ModelOptions } from "./common.js";

/** BN-ReLU-Conv1x1-BN-ReLU-Conv3x3 on the concatenation of all previous maps; adds growthRate channels. */
export class DenseLayer extends Module {
  norm1: BatchNorm2d;
  relu1: ReLU;
  conv1: Conv2d;
  norm2: BatchNorm2d;
  relu2: ReLU;
  conv2: Conv2d;

  constructor(
    inChannels: number,
    growthRate: number,
    bnSize: number,
    readonly dropRate: number,
    o: LayerOptions,
  ) {
    super();
    this.norm1 = new BatchNorm2d(inChannels, o);
    this.relu1 = new ReLU();
    this.conv1 = new Conv2d(inChannels, bnSize * growthRate, 1, { ...o, bias: false });
    this.norm2 = new BatchNorm2d(bnSize * growthRate, o);
    this.relu2 = new ReLU();
    this.conv2 = new Conv2d(bnSize * growthRate, growthRate, 3, { ...o, padding: 1, bias: false });
  }

  forward(x: Tensor): Tensor {
    const h = this.conv1.forward(this.relu1.forward(this.norm1.forward(x)));
    const out = this.conv2.forward(this.relu2.forward(this.norm2.forward(h)));
    return this.dropRate > 0 ? dropout(out, this.dropRate, { training: this.training }) : out;
  }
}

/** `numLayers` dense layers, each fed the block input and every earlier layer's output. */
export class DenseBlock extends Module {
  private readonly layers: DenseLayer[] = [];

  constructor(
    numLayers: number,
    inChannels: number,
    growthRate: number,
    bnSize: number,
    dropRate: number,
    o: LayerOptions,
  ) {
    super();
    for (let i = 0; i < numLayers; i++) {
      const layer = new DenseLayer(inChannels + i * growthRate, growthRate, bnSize, dropRate, o);
      this.registerModule(`denselayer${i + 1}`, layer);
      this.layers.push(layer);
    }
  }

  forward(x: Tensor): Tensor {
    const features = [x];
    for (const layer of this.layers) features.push(layer.forward(concat(features, 1)));
    return concat(features, 1);
  }
}

/** BN-ReLU-Conv1x1 (halving channels) then 2x2 average pooling, between dense blocks. */
export function transition(inChannels: number, outChannels: number, o: LayerOptions): NamedSequential {
  return new NamedSequential([
    ["norm", new BatchNorm2d(inChannels, o)],
    ["relu", new ReLU()],
    ["conv", new Conv2d(inChannels, outChannels, 1, { ...o, bias: false })],
    ["pool", new AvgPool2d(2, { stride: 2 })],
  ]);
}

export interface DenseNetOptions extends ModelOptions {
  growthRate?: number;
  /** Layers per dense block (DenseNet-121: [6, 12, 24, 16]). */
  blockConfig?: readonly number[];
  numInitFeatures?: number;
  /** Bottleneck width factor: conv1 outputs bnSize·growthRate channels. */
  bnSize?: number;
  dropRate?: number;
  /** Stem for small images: 3x3 stride-1 conv, no max pool. */
  smallInput?: boolean;
}

/**
 * DenseNet-BC in torchvision's layout: `features` (conv0, norm0, relu0, pool0, denseblock1, transition1, …,
 * denseblock4, norm5), then ReLU, global average pool and `classifier`.
 * @example new DenseNet().forward(x) // DenseNet-121: x [N, 3, 224, 224] -> [N, 1000]
 */
export class DenseNet extends Module {
  features: NamedSequential;
  classifier: Linear;

  constructor(options: DenseNetOptions = {}) {
    super();
    const o = layerOptions(options);
    const growth = options.growthRate ?? 32;
    const blocks = options.blockConfig ?? [6, 12, 24, 16];
    const bnSize = options.bnSize ?? 4;
    let channels = options.numInitFeatures ?? 64;
    const inChannels = options.inChannels ?? 3;
    this.features = new NamedSequential(
      options.smallInput
        ? [["conv0", new Conv2d(inChannels, channels, 3, { ...o, padding: 1, bias: false })]]
        : [
            ["conv0", new Conv2d(inChannels, channels, 7, { ...o, stride: 2, padding: 3, bias: false })],
            ["norm0", new BatchNorm2d(channels, o)],
            ["relu0", new ReLU()],
            ["pool0", new MaxPool2d(3, { stride: 2, padding: 1 })],
          ],
    );
    blocks.forEach((numLayers, i) => {
      this.features.add(
        `denseblock${i + 1}`,
        new DenseBlock(numLayers, channels, growth, bnSize, options.dropRate ?? 0, o),
      );
      channels += numLayers * growth;
      if (i !== blocks.length - 1) {
        this.features.add(`transition${i + 1}`, transition(channels, Math.floor(channels / 2), o));
        channels = Math.floor(channels / 2);
      }
    });
    this.features.add("norm5", new BatchNorm2d(channels, o));
    this.classifier = new Linear(channels, options.numClasses ?? 1000, o);
    initialize(this, { conv: "kaimingNormalFanIn", batchNorm: true, linearBiasZero: true });
  }

  forward(x: Tensor): Tensor {
    const h = relu(this.features.forward(x));
    return this.classifier.forward(flatten(adaptiveAvgPool2d(h, [1, 1]), 1));
  }
}
