// SqueezeNet (Iandola et al. 2016, "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and
// <0.5MB model size"): small by design. Fire modules "squeeze" with a few 1x1 filters, then "expand" with a
// mix of 1x1 and 3x3 filters whose outputs are concatenated; there are no fully connected layers — a 1x1
// conv to the class count followed by global average pooling classifies. Version 1.1 (the SqueezeNet repo)
// moves pooling earlier and uses 3x3 stem filters: 2.4x fewer MACs than 1.0 at the same accuracy.

import type { Tensor } from "../tensor/tensor.js";
import { concat, flatten } from "../ops/movement.js";
import { relu } from "../ops/activations.js";
import {
  Module,
  Sequential,
  Conv2d,
  ReLU,
  MaxPool2d,
  Dropout,
  AdaptiveAvgPool2d,
  init,
} from "../nn/index.js";
import { layerOptions, type LayerOptions, type ModelOptions } from "./common.js";

/**
 * Fire module: squeeze 1x1 (s filters) + ReLU, then expand 1x1 (e1) and 3x3 (e3) + ReLU, concatenated:
 * output channels e1 + e3.
 * @example new Fire(64, 16, 64, 64).forward(x) // x [N, 64, 55, 55] -> [N, 128, 55, 55]
 */
export class Fire extends Module {
  squeeze: Conv2d;
  expand1x1: Conv2d;
  expand3x3: Conv2d;

  constructor(
    inChannels: number,
    squeeze: number,
    expand1x1: number,
    expand3x3: number,
    o: LayerOptions = {},
  ) {
    super();
    this.squeeze = new Conv2d(inChannels, squeeze, 1, o);
    this.expand1x1 = new Conv2d(squeeze, expand1x1, 1, o);
    this.expand3x3 = new Conv2d(squeeze, expand3x3, 3, { ...o, padding: 1 });
  }

  forward(x: Tensor): Tensor {
    const s = relu(this.squeeze.forward(x));
    return concat([relu(this.expand1x1.forward(s)), relu(this.expand3x3.forward(s))], 1);
  }
}

/**
 * SqueezeNet 1.1 in torchvision's layout: `features` (conv 3x3/2 with 64 filters, pools and 8 Fire
 * modules), `classifier` (Dropout 0.5, final conv 1x1 to classes, ReLU, global average pool). 1.24M
 * parameters, 349M MACs at 224x224. Initialised like torchvision: final conv N(0, 0.01²), other convs
 * Kaiming-uniform, biases 0.
 * @example new SqueezeNet().forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export class SqueezeNet extends Module {
  features: Sequential;
  classifier: Sequential;

  constructor(options: ModelOptions = {}) {
    super();
    const o = layerOptions(options);
    const pool = () => new MaxPool2d(3, { stride: 2, ceilMode: true });
    this.features = new Sequential(
      new Conv2d(options.inChannels ?? 3, 64, 3, { ...o, stride: 2 }),
      new ReLU(),
      pool(),
      new Fire(64, 16, 64, 64, o),
      new Fire(128, 16, 64, 64, o),
      pool(),
      new Fire(128, 32, 128, 128, o),
      new Fire(256, 32, 128, 128, o),
      pool(),
      new Fire(256, 48, 192, 192, o),
      new Fire(384, 48, 192, 192, o),
      new Fire(384, 64, 256, 256, o),
      new Fire(512, 64, 256, 256, o),
    );
    const finalConv = new Conv2d(512, options.numClasses ?? 1000, 1, o);
    this.classifier = new Sequential(new Dropout(0.5), finalConv, new ReLU(), new AdaptiveAvgPool2d(1));
    if (finalConv.weight.backend.name !== "meta") {
      for (const m of this.modules()) {
        if (!(m instanceof Conv2d)) continue;
        if (m === finalConv) init.normal_(m.weight, 0, 0.01);
        else init.kaimingUniform_(m.weight, { nonlinearity: "relu" });
        if (m.bias) init.zeros_(m.bias);
      }
    }
  }

  forward(x: Tensor): Tensor {
    return flatten(this.classifier.forward(this.features.forward(x)), 1);
  }
}
