// AlexNet (Krizhevsky, Sutskever & Hinton 2012, "ImageNet classification with deep convolutional neural
// networks"): the network that won ILSVRC-2012 and started the deep-learning era — ReLU instead of tanh,
// dropout in the classifier, overlapping max pooling, local response normalisation, and a model split over
// two GPUs (the two-group convolutions). Two versions: torchvision's single-stream one (the layout of its
// pretrained weights, from "One weird trick", Krizhevsky 2014) and the original 2012 one.

import type { Tensor } from "../tensor/tensor.js";
import {
  Module,
  Sequential,
  Conv2d,
  Linear,
  ReLU,
  MaxPool2d,
  AdaptiveAvgPool2d,
  Dropout,
  Flatten,
  LocalResponseNorm,
  init,
} from "../nn/index.js";
import { layerOptions, type ModelOptions } from "./common.js";

export interface AlexNetOptions extends ModelOptions {
  /** Dropout probability before the first two fully connected layers (0.5). */
  dropout?: number;
  /** Width of the two hidden fully connected layers (4096 in the paper). */
  hiddenFeatures?: number;
}

/**
 * The classifier head shared by AlexNet, ZFNet and (with 7x7 input) VGG:
 * Dropout, Linear(inFeatures, hidden), ReLU, Dropout, Linear(hidden, hidden), ReLU, Linear(hidden, classes).
 */
export function alexNetClassifier(inFeatures: number, options: AlexNetOptions): Sequential {
  const o = layerOptions(options);
  const hidden = options.hiddenFeatures ?? 4096;
  const p = options.dropout ?? 0.5;
  return new Sequential(
    new Dropout(p),
    new Linear(inFeatures, hidden, o),
    new ReLU(),
    new Dropout(p),
    new Linear(hidden, hidden, o),
    new ReLU(),
    new Linear(hidden, options.numClasses ?? 1000, o),
  );
}

/**
 * torchvision's AlexNet: one stream, 64-192-384-256-256 filters, adaptive pooling to 6x6 so any input of at
 * least 63x63 works. State-dict keys `features.0.weight` … `classifier.6.bias` match torchvision.
 * @example new AlexNet().forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export class AlexNet extends Module {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  flatten: Flatten;
  classifier: Sequential;

  constructor(options: AlexNetOptions = {}) {
    super();
    const o = layerOptions(options);
    this.features = new Sequential(
      new Conv2d(options.inChannels ?? 3, 64, 11, { ...o, stride: 4, padding: 2 }),
      new ReLU(),
      new MaxPool2d(3, { stride: 2 }),
      new Conv2d(64, 192, 5, { ...o, padding: 2 }),
      new ReLU(),
      new MaxPool2d(3, { stride: 2 }),
      new Conv2d(192, 384, 3, { ...o, padding: 1 }),
      new ReLU(),
      new Conv2d(384, 256, 3, { ...o, padding: 1 }),
      new ReLU(),
      new Conv2d(256, 256, 3, { ...o, padding: 1 }),
      new ReLU(),
      new MaxPool2d(3, { stride: 2 }),
    );
    this.avgpool = new AdaptiveAvgPool2d(6);
    this.flatten = new Flatten();
    this.classifier = alexNetClassifier(256 * 6 * 6, options);
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.flatten.forward(this.avgpool.forward(this.features.forward(x))));
  }
}

/**
 * Local response normalisation with the 2012 paper's constants (n = 5, alpha = 1e-4, beta = 0.75, k = 2).
 * The paper divides by (k + alpha·Σx²)^beta, torch by (k + alpha/size·Σx²)^beta, hence alpha·size here.
 */
export function paperLocalResponseNorm(): LocalResponseNorm {
  return new LocalResponseNorm(5, { alpha: 1e-4 * 5, beta: 0.75, k: 2 });
}

/**
 * AlexNet as published in 2012: 96-256-384-384-256 filters, LRN after conv1 and conv2, and the two-GPU
 * split kept as two-group convolutions in conv2, conv4 and conv5 (each half of the filters sees only the
 * half of the previous maps on its GPU; conv3 and the FC layers talk across GPUs). Input 227x227 (the
 * paper says 224, but 227 is the size that gives its 55x55 first layer). 60,965,224 parameters. An adaptive
 * average pool to 6x6 (the identity at 227x227, added as torchvision did) lets smaller images in.
 * Initialisation as in the paper: weights N(0, 0.01²), biases 1 in conv2, conv4, conv5 and the hidden FC
 * layers (to give ReLUs positive inputs early), 0 elsewhere.
 * @example new AlexNet2012().forward(x) // x [N, 3, 227, 227] -> [N, 1000]
 */
export class AlexNet2012 extends Module {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  flatten: Flatten;
  classifier: Sequential;

  constructor(options: AlexNetOptions = {}) {
    super();
    const o = layerOptions(options);
    this.features = new Sequential(
      new Conv2d(options.inChannels ?? 3, 96, 11, { ...o, stride: 4 }),
      new ReLU(),
      paperLocalResponseNorm(),
      new MaxPool2d(3, { stride: 2 }),
      new Conv2d(96, 256, 5, { ...o, padding: 2, groups: 2 }),
      new ReLU(),
      paperLocalResponseNorm(),
      new MaxPool2d(3, { stride: 2 }),
      new Conv2d(256, 384, 3, { ...o, padding: 1 }),
      new ReLU(),
      new Conv2d(384, 384, 3, { ...o, padding: 1, groups: 2 }),
      new ReLU(),
      new Conv2d(384, 256, 3, { ...o, padding: 1, groups: 2 }),
      new ReLU(),
      new MaxPool2d(3, { stride: 2 }),
    );
    this.avgpool = new AdaptiveAvgPool2d(6);
    this.flatten = new Flatten();
    this.classifier = alexNetClassifier(256 * 6 * 6, options);
    if (
      this.features.at(0) instanceof Conv2d &&
      (this.features.at(0) as Conv2d).weight.backend.name !== "meta"
    ) {
      this.initPaper();
    }
  }

  private initPaper(): void {
    const layers = [...this.features, ...this.classifier].filter(
      (m): m is Conv2d | Linear => m instanceof Conv2d || m instanceof Linear,
    );
    const biasOne = new Set([1, 3, 4, 5, 6]);
    layers.forEach((layer, i) => {
      init.normal_(layer.weight, 0, 0.01);
      if (layer.bias) init.constant_(layer.bias, biasOne.has(i) ? 1 : 0);
    });
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.flatten.forward(this.avgpool.forward(this.features.forward(x))));
  }
}
