// ShuffleNet V2 (Ma, Zhang, Zheng & Sun 2018, "ShuffleNet V2: practical guidelines for efficient CNN
// architecture design"): designed for measured speed rather than MAC counts. Each unit splits its channels
// in two, leaves one half untouched and passes the other through 1x1 → depthwise 3x3 → 1x1 with equal
// widths (memory access is cheapest when input and output widths match, and no grouped 1x1 convs), then
// concatenates the halves and *shuffles* the channels so information crosses between the two halves in the
// next unit. Downsampling units process both halves and double the channels.

import type { Tensor } from "../tensor/tensor.js";
import { concat, reshape, transpose, split } from "../ops/movement.js";
import {
  Module,
  Sequential,
  Conv2d,
  BatchNorm2d,
  ReLU,
  MaxPool2d,
  Linear,
  Identity,
  type TensorModule,
} from "../nn/index.js";
import { layerOptions, type LayerOptions, type ModelOptions } from "./common.js";

/**
 * Channel shuffle: view [N, C, H, W] as [N, groups, C/groups, H, W], swap the two channel axes, flatten
 * back — channel g·(C/groups) + i moves to i·groups + g.
 * @example channelShuffle(x, 2) // channels [a0 a1 a2 b0 b1 b2] -> [a0 b0 a1 b1 a2 b2]
 */
export function channelShuffle(x: Tensor, groups: number): Tensor {
  const [n, c, h, w] = x.shape;
  if (c % groups !== 0) throw new Error(`channelShuffle: ${c} channels do not split into ${groups} groups`);
  return reshape(transpose(reshape(x, [n, groups, c / groups, h, w]), 1, 2), [n, c, h, w]);
}

function depthwise(channels: number, stride: number, o: LayerOptions): Conv2d {
  return new Conv2d(channels, channels, 3, { ...o, stride, padding: 1, groups: channels, bias: false });
}

function pointwise(inChannels: number, outChannels: number, o: LayerOptions): Conv2d {
  return new Conv2d(inChannels, outChannels, 1, { ...o, bias: false });
}

/**
 * ShuffleNet V2 unit. Stride 1: split channels in half, transform one half (branch2), concatenate, shuffle.
 * Stride 2: both halves see the full input (branch1: depthwise + pointwise, branch2 as above), so the
 * output has twice the channels at half the resolution.
 */
export class ShuffleUnit extends Module {
  branch1: Sequential;
  branch2: Sequential;

  constructor(
    inChannels: number,
    outChannels: number,
    readonly stride: number,
    o: LayerOptions,
  ) {
    super();
    const branch = outChannels / 2;
    if (stride === 1 && inChannels !== outChannels) {
      throw new Error(
        `ShuffleUnit: stride 1 needs inChannels == outChannels, got ${inChannels} and ${outChannels}`,
      );
    }
    this.branch1 =
      stride > 1
        ? new Sequential(
            depthwise(inChannels, stride, o),
            new BatchNorm2d(inChannels, o),
            pointwise(inChannels, branch, o),
            new BatchNorm2d(branch, o),
            new ReLU(),
          )
        : new Sequential();
    this.branch2 = new Sequential(
      pointwise(stride > 1 ? inChannels : branch, branch, o),
      new BatchNorm2d(branch, o),
      new ReLU(),
      depthwise(branch, stride, o),
      new BatchNorm2d(branch, o),
      pointwise(branch, branch, o),
      new BatchNorm2d(branch, o),
      new ReLU(),
    );
  }

  forward(x: Tensor): Tensor {
    let out: Tensor;
    if (this.stride === 1) {
      const half = x.shape[1] / 2;
      const [x1, x2] = split(x, [half, half], 1);
      out = concat([x1, this.branch2.forward(x2)], 1);
    } else {
      out = concat([this.branch1.forward(x), this.branch2.forward(x)], 1);
    }
    return channelShuffle(out, 2);
  }
}

export interface ShuffleNetV2Options extends ModelOptions {
  /** Units per stage (stage2-4). */
  stagesRepeats?: readonly [number, number, number];
  /** Channels of conv1, stage2, stage3, stage4, conv5 (x1.0: 24, 116, 232, 464, 1024). */
  stagesOutChannels?: readonly [number, number, number, number, number];
  /** conv1 with stride 1 and no max pool, for 32x32 images. */
  smallInput?: boolean;
}

/**
 * ShuffleNet V2 in torchvision's layout: conv1 (3x3/2 + BN + ReLU), maxpool, stage2-4, conv5 (1x1 + BN +
 * ReLU), global mean, fc. x1.0: 2.28M parameters, 145M MACs at 224x224 (the paper reports 146M FLOPs).
 * @example new ShuffleNetV2().forward(x) // x [N, 3, 224, 224] -> [N, 1000]
 */
export class ShuffleNetV2 extends Module {
  conv1: Sequential;
  maxpool: TensorModule;
  stage2: Sequential;
  stage3: Sequential;
  stage4: Sequential;
  conv5: Sequential;
  fc: Linear;

  constructor(options: ShuffleNetV2Options = {}) {
    super();
    const o = layerOptions(options);
    const repeats = options.stagesRepeats ?? [4, 8, 4];
    const widths = options.stagesOutChannels ?? [24, 116, 232, 464, 1024];
    this.conv1 = new Sequential(
      new Conv2d(options.inChannels ?? 3, widths[0], 3, {
        ...o,
        stride: options.smallInput ? 1 : 2,
        padding: 1,
        bias: false,
      }),
      new BatchNorm2d(widths[0], o),
      new ReLU(),
    );
    this.maxpool = options.smallInput ? new Identity() : new MaxPool2d(3, { stride: 2, padding: 1 });
    const stage = (i: number): Sequential => {
      const s = new Sequential(new ShuffleUnit(widths[i], widths[i + 1], 2, o));
      for (let k = 1; k < repeats[i]; k++) s.append(new ShuffleUnit(widths[i + 1], widths[i + 1], 1, o));
      return s;
    };
    this.stage2 = stage(0);
    this.stage3 = stage(1);
    this.stage4 = stage(2);
    this.conv5 = new Sequential(
      pointwise(widths[3], widths[4], o),
      new BatchNorm2d(widths[4], o),
      new ReLU(),
    );
    this.fc = new Linear(widths[4], options.numClasses ?? 1000, o);
  }

  forward(x: Tensor): Tensor {
    let h = this.maxpool.forward(this.conv1.forward(x));
    h = this.conv5.forward(this.stage4.forward(this.stage3.forward(this.stage2.forward(h))));
    return this.fc.forward(h.mean([2, 3]));
  }
}
