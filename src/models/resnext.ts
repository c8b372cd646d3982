// ResNeXt (Xie, Girshick, Dollár, Tu & He 2017, "Aggregated residual transformations for deep neural
// networks"): a ResNet bottleneck whose 3x3 convolution is split into C parallel paths of width d
// ("cardinality"), implemented as one grouped convolution. At the same parameter and MAC budget as
// ResNet-50, more and thinner paths (32x4d) are more accurate than a wider single path.

import { Bottleneck, ResNet, type ResNetOptions } from "./resnet.js";

/**
 * ResNeXt-50 32x4d in torchvision's layout: ResNet-50's stages with bottleneck width 128 at the first stage
 * (32 groups of 4 channels), doubling per stage. 25.0M parameters, 4.2 GMACs at 224x224.
 * @example resnext50_32x4d().forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export function resnext50_32x4d(options: ResNetOptions = {}): ResNet {
  return new ResNet({ block: Bottleneck, layers: [3, 4, 6, 3], groups: 32, baseWidth: 4 }, options);
}

/**
 * ResNeXt-101 32x8d in torchvision's layout: ResNet-101's stages ([3, 4, 23, 3] bottlenecks) with 32 groups
 * of 8 channels at the first stage (width 256), doubling per stage. 88.8M parameters, 16.4 GMACs at 224x224.
 * @example resnext101_32x8d({ backend: "meta" }) // summary() without allocating the 355 MB of weights
 */
export function resnext101_32x8d(options: ResNetOptions = {}): ResNet {
  return new ResNet({ block: Bottleneck, layers: [3, 4, 23, 3], groups: 32, baseWidth: 8 }, options);
}
