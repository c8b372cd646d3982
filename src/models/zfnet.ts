// ZFNet (Zeiler & Fergus 2014, "Visualizing and understanding convolutional networks"), ILSVRC-2013's
// winner: AlexNet re-tuned after looking at what its layers had learned with a deconvnet. The 11x11
// stride-4 first layer aliased and left dead filters, so ZFNet uses 7x7 filters with stride 2 (and stride
// 2 in conv2), keeping more spatial detail; a single stream replaces AlexNet's two-GPU split.

import type { Tensor } from "../tensor/tensor.js";
import { Module, Sequential, Conv2d, ReLU, MaxPool2d, AdaptiveAvgPool2d, Flatten } from "../nn/index.js";
import { initialize, layerOptions } from "./common.js";
import { alexNetClassifier, paperLocalResponseNorm, type AlexNetOptions } from "./alexnet.js";

/**
 * ZFNet for 224x224 input: conv1 96@7x7/2 → 110x110, pool 3/2 → 55, conv2 256@5x5/2 → 26, pool → 13,
 * conv3-5 384-384-256@3x3 at 13x13, pool → 6x6x256, then AlexNet's classifier. Contrast normalisation is
 * local response normalisation with AlexNet's constants; pooling rounds up like Caffe (ceilMode). As in
 * torchvision's AlexNet, an adaptive average pool to 6x6 (the identity at 224x224) lets smaller images in.
 * Initialisation as in the paper: weights N(0, 0.01²), biases 0.
 * @example new ZFNet().forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export class ZFNet extends Module {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  flatten: Flatten;
  classifier: Sequential;

  constructor(options: AlexNetOptions = {}) {
    super();
    const o = layerOptions(options);
    this.features = new Sequential(
      new Conv2d(options.inChannels ?? 3, 96, 7, { ...o, stride: 2, padding: 1 }),
      new ReLU(),
      new MaxPool2d(3, { stride: 2, ceilMode: true }),
      paperLocalResponseNorm(),
      new Conv2d(96, 256, 5, { ...o, stride: 2 }),
      new ReLU(),
      new MaxPool2d(3, { stride: 2, ceilMode: true }),
      paperLocalResponseNorm(),
      new Conv2d(256, 384, 3, { ...o, padding: 1 }),
      new ReLU(),
      new Conv2d(384, 384, 3, { ...o, padding: 1 }),
      new ReLU(),
      new Conv2d(384, 256, 3, { ...o, padding: 1 }),
      new ReLU(),
      new MaxPool2d(3, { stride: 2 }),
    );
    this.avgpool = new AdaptiveAvgPool2d(6);
    this.flatten = new Flatten();
    this.classifier = alexNetClassifier(256 * 6 * 6, options);
    initialize(this, {
      conv: { normalStd: 0.01 },
      convBiasZero: true,
      linear: { normalStd: 0.01 },
      linearBiasZero: true,
    });
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.flatten.forward(this.avgpool.forward(this.features.forward(x))));
  }
}
