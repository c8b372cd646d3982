// GoogLeNet / Inception v1 (Szegedy et al. 2015, "Going deeper with convolutions"), ILSVRC-2014's winner:
// 22 layers with 12x fewer parameters than AlexNet. The Inception module runs 1x1, 3x3, 5x5 convolutions
// and a 3x3 max pool side by side and concatenates them; 1x1 "reduction" convolutions in front of the
// expensive branches keep the cost down (network-in-network bottlenecks). Two auxiliary classifiers on
// intermediate layers add gradient signal during training (their loss is weighted by 0.3) and are dropped at
// inference. The layout is torchvision's (BasicConv2d = conv + batch norm (eps 0.001) + ReLU, which the
// paper predates), including its 3x3 kernel in the "5x5" branch; `branch3KernelSize: 5` gives the paper's.

import type { Tensor } from "../tensor/tensor.js";
import { concat, flatten, slice } from "../ops/movement.js";
import { add, mul } from "../ops/elementwise.js";
import { relu } from "../ops/activations.js";
import { adaptiveAvgPool2d } from "../ops/pool.js";
import {
  Module,
  MaxPool2d,
  AdaptiveAvgPool2d,
  Dropout,
  Linear,
  BasicConv2d,
  InceptionBlock,
} from "../nn/index.js";
import { initialize, layerOptions, type LayerOptions, type ModelOptions } from "./common.js";

export { BasicConv2d };

/** The filter counts of one Inception module: the columns of the paper's Table 1. */
export interface InceptionConfig {
  ch1x1: number;
  ch3x3red: number;
  ch3x3: number;
  ch5x5red: number;
  ch5x5: number;
  poolProj: number;
}

/**
 * One Inception module: four branches on the same input, concatenated along channels, so the output has
 * ch1x1 + ch3x3 + ch5x5 + poolProj channels and the input's spatial size. The module itself is the nn
 * building block InceptionBlock; this adds GoogLeNet's named configuration.
 * @example new Inception(192, { ch1x1: 64, ch3x3red: 96, ch3x3: 128, ch5x5red: 16, ch5x5: 32, poolProj: 32 })
 * // x [N, 192, 28, 28] -> [N, 256, 28, 28] (inception 3a)
 */
export class Inception extends InceptionBlock {
  constructor(
    inChannels: number,
    c: InceptionConfig,
    options: LayerOptions & { branch3KernelSize?: 3 | 5 } = {},
  ) {
    super(inChannels, c.ch1x1, c.ch3x3red, c.ch3x3, c.ch5x5red, c.ch5x5, c.poolProj, options);
  }
}

/**
 * Auxiliary classifier on an intermediate feature map: average pool to 4x4, 1x1 conv to 128 channels,
 * FC 2048 → 1024, ReLU, dropout 0.7, FC 1024 → classes.
 */
export class InceptionAux extends Module {
  conv: BasicConv2d;
  fc1: Linear;
  fc2: Linear;
  dropout: Dropout;

  constructor(inChannels: number, numClasses: number, options: LayerOptions = {}) {
    super();
    this.conv = new BasicConv2d(inChannels, 128, 1, options);
    this.fc1 = new Linear(2048, 1024, options);
    this.fc2 = new Linear(1024, numClasses, options);
    this.dropout = new Dropout(0.7);
  }

  forward(x: Tensor): Tensor {
    const h = flatten(this.conv.forward(adaptiveAvgPool2d(x, [4, 4])), 1);
    return this.fc2.forward(this.dropout.forward(relu(this.fc1.forward(h))));
  }
}

/** GoogLeNet's Inception modules in order, with the paper's filter counts (Table 1). */
export const GOOGLENET_INCEPTIONS: readonly [string, number, InceptionConfig][] = [
  ["inception3a", 192, { ch1x1: 64, ch3x3red: 96, ch3x3: 128, ch5x5red: 16, ch5x5: 32, poolProj: 32 }],
  ["inception3b", 256, { ch1x1: 128, ch3x3red: 128, ch3x3: 192, ch5x5red: 32, ch5x5: 96, poolProj: 64 }],
  ["inception4a", 480, { ch1x1: 192, ch3x3red: 96, ch3x3: 208, ch5x5red: 16, ch5x5: 48, poolProj: 64 }],
  ["inception4b", 512, { ch1x1: 160, ch3x3red: 112, ch3x3: 224, ch5x5red: 24, ch5x5: 64, poolProj: 64 }],
  ["inception4c", 512, { ch1x1: 128, ch3x3red: 128, ch3x3: 256, ch5x5red: 24, ch5x5: 64, poolProj: 64 }],
  ["inception4d", 512, { ch1x1: 112, ch3x3red: 144, ch3x3: 288, ch5x5red: 32, ch5x5: 64, poolProj: 64 }],
  ["inception4e", 528, { ch1x1: 256, ch3x3red: 160, ch3x3: 320, ch5x5red: 32, ch5x5: 128, poolProj: 128 }],
  ["inception5a", 832, { ch1x1: 256, ch3x3red: 160, ch3x3: 320, ch5x5red: 32, ch5x5: 128, poolProj: 128 }],
  ["inception5b", 832, { ch1x1: 384, ch3x3red: 192, ch3x3: 384, ch5x5red: 48, ch5x5: 128, poolProj: 128 }],
];

export interface GoogLeNetOptions extends ModelOptions {
  /** Build the two auxiliary classifiers (default true). They only run in training mode. */
  auxLogits?: boolean;
  /** Kernel of the "5x5" branch: 3 as in torchvision's implementation (default), 5 as in the paper. */
  branch3KernelSize?: 3 | 5;
  /** Dropout before the final FC layer: 0.2 in torchvision, 0.4 in the paper. */
  dropout?: number;
  /**
   * Re-normalise the input from ImageNet's mean/std normalisation to [-1, 1] scaling, per channel, as
   * torchvision's `transform_input` does (torchvision turns it on with its pretrained weights, which were
   * trained on inputs scaled that way). Default false; needs 3 input channels.
   */
  transformInput?: boolean;
}

/** torchvision's transform_input: x·(std/0.5) + (mean − 0.5)/0.5 per RGB channel. */
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** What GoogLeNet returns in training mode with auxiliary classifiers: weight the aux losses by 0.3. */
export interface GoogLeNetOutputs {
  logits: Tensor;
  auxLogits1: Tensor;
  auxLogits2: Tensor;
}

/**
 * GoogLeNet (Inception v1), torchvision's layout and state_dict names. In training mode with `auxLogits`
 * the forward returns `{ logits, auxLogits1, auxLogits2 }` (aux1 after inception4a, aux2 after 4d);
 * otherwise, and always in eval mode, only the logits tensor.
 * @example
 * const net = new GoogLeNet({ numClasses: 10 });
 * const { logits, auxLogits1, auxLogits2 } = net.forward(x) as GoogLeNetOutputs; // x [N, 3, 224, 224]
 * const loss = crossEntropy(logits, y).add(crossEntropy(auxLogits1, y).add(crossEntropy(auxLogits2, y)).mul(0.3));
 */
export class GoogLeNet extends Module {
  conv1: BasicConv2d;
  maxpool1: MaxPool2d;
  conv2: BasicConv2d;
  conv3: BasicConv2d;
  maxpool2: MaxPool2d;
  inception3a: Inception;
  inception3b: Inception;
  maxpool3: MaxPool2d;
  inception4a: Inception;
  inception4b: Inception;
  inception4c: Inception;
  inception4d: Inception;
  inception4e: Inception;
  maxpool4: MaxPool2d;
  inception5a: Inception;
  inception5b: Inception;
  aux1: InceptionAux | null;
  aux2: InceptionAux | null;
  avgpool: AdaptiveAvgPool2d;
  dropout: Dropout;
  fc: Linear;
  readonly transformInput: boolean;

  constructor(options: GoogLeNetOptions = {}) {
    super();
    this.transformInput = options.transformInput ?? false;
    if (this.transformInput && (options.inChannels ?? 3) !== 3)
      throw new Error(
        `GoogLeNet: transformInput needs 3 input channels, got inChannels ${options.inChannels}`,
      );
    const o = layerOptions(options);
    const numClasses = options.numClasses ?? 1000;
    const inc = (name: string): Inception => {
      const [, inChannels, config] = GOOGLENET_INCEPTIONS.find(([n]) => n === name)!;
      return new Inception(inChannels, config, { ...o, branch3KernelSize: options.branch3KernelSize });
    };
    this.conv1 = new BasicConv2d(options.inChannels ?? 3, 64, 7, { ...o, stride: 2, padding: 3 });
    this.maxpool1 = new MaxPool2d(3, { stride: 2, ceilMode: true });
    this.conv2 = new BasicConv2d(64, 64, 1, o);
    this.conv3 = new BasicConv2d(64, 192, 3, { ...o, padding: 1 });
    this.maxpool2 = new MaxPool2d(3, { stride: 2, ceilMode: true });
    this.inception3a = inc("inception3a");
    this.inception3b = inc("inception3b");
    this.maxpool3 = new MaxPool2d(3, { stride: 2, ceilMode: true });
    this.inception4a = inc("inception4a");
    this.inception4b = inc("inception4b");
    this.inception4c = inc("inception4c");
    this.inception4d = inc("inception4d");
    this.inception4e = inc("inception4e");
    // torchvision pools 2x2 here, the paper 3x3; both give 7x7 from 14x14.
    this.maxpool4 = new MaxPool2d(2, { stride: 2, ceilMode: true });
    this.inception5a = inc("inception5a");
    this.inception5b = inc("inception5b");
    const aux = options.auxLogits ?? true;
    this.aux1 = aux ? new InceptionAux(512, numClasses, o) : null;
    this.aux2 = aux ? new InceptionAux(528, numClasses, o) : null;
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.dropout = new Dropout(options.dropout ?? 0.2);
    this.fc = new Linear(1024, numClasses, o);
    initialize(this, { truncNormalStd: 0.01, batchNorm: true });
  }

  /** The input re-scaled per channel as torchvision's transform_input (a no-op when it is off). */
  private transformed(x: Tensor): Tensor {
    if (!this.transformInput) return x;
    const channel = (c: number) =>
      add(mul(slice(x, 1, c, c + 1), IMAGENET_STD[c] / 0.5), (IMAGENET_MEAN[c] - 0.5) / 0.5);
    return concat([channel(0), channel(1), channel(2)], 1);
  }

  forward(x: Tensor): Tensor | GoogLeNetOutputs {
    let h = this.maxpool1.forward(this.conv1.forward(this.transformed(x)));
    h = this.maxpool2.forward(this.conv3.forward(this.conv2.forward(h)));
    h = this.maxpool3.forward(this.inception3b.forward(this.inception3a.forward(h)));
    h = this.inception4a.forward(h);
    const aux1 = this.training && this.aux1 ? this.aux1.forward(h) : null;
    h = this.inception4d.forward(this.inception4c.forward(this.inception4b.forward(h)));
    const aux2 = this.training && this.aux2 ? this.aux2.forward(h) : null;
    h = this.maxpool4.forward(this.inception4e.forward(h));
    h = this.inception5b.forward(this.inception5a.forward(h));
    h = flatten(this.avgpool.forward(h), 1);
    const logits = this.fc.forward(this.dropout.forward(h));
    if (aux1 && aux2) return { logits, auxLogits1: aux1, auxLogits2: aux2 };
    return logits;
  }
}
