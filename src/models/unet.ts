// U-Net (Ronneberger, Fischer & Brox 2015): a fully convolutional encoder–decoder for per-pixel
// classification. The encoder halves the resolution and doubles the channels at each level; the decoder
// upsamples with transposed convolutions and concatenates the encoder's map of the same resolution (skip
// connections), so fine detail lost by pooling comes back. Padded 3×3 convolutions keep the input's size,
// so the output is [N, numClasses, H, W] for H and W divisible by 2^depth.

import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { concat } from "../ops/movement.js";
import {
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  MaxPool2d,
  Module,
  ModuleList,
  ReLU,
  Sequential,
} from "../nn/index.js";
import { type ModelOptions, layerOptions } from "./common.js";

export interface UNetOptions extends ModelOptions {
  /** Channels of the first level; each deeper level doubles them (default 16; the paper used 64). */
  baseWidth?: number;
  /** Down-sampling steps (default 2; the paper used 4). */
  depth?: number;
}

/** (3×3 conv, batch norm, ReLU) twice: the unit of every U-Net level. */
export class DoubleConv extends Sequential {
  constructor(inChannels: number, outChannels: number, options: ModelOptions = {}) {
    const layer = layerOptions(options);
    super(
      new Conv2d(inChannels, outChannels, 3, { padding: 1, bias: false, ...layer }),
      new BatchNorm2d(outChannels, layer),
      new ReLU(),
      new Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false, ...layer }),
      new BatchNorm2d(outChannels, layer),
      new ReLU(),
    );
  }
}

/** A decoder level: upsample ×2 by a transposed conv, concatenate the skip, DoubleConv. */
export class UpBlock extends Module {
  up: ConvTranspose2d;
  conv: DoubleConv;

  constructor(inChannels: number, outChannels: number, options: ModelOptions = {}) {
    super();
    this.up = new ConvTranspose2d(inChannels, outChannels, 2, { stride: 2, ...layerOptions(options) });
    this.conv = new DoubleConv(2 * outChannels, outChannels, options);
  }

  forward(x: Tensor, skip: Tensor): Tensor {
    return this.conv.forward(concat([skip, this.up.forward(x)], 1));
  }
}

/**
 * U-Net for semantic segmentation: logits per pixel. Train with per-pixel cross-entropy
 * (`F.crossEntropy(logits [N,C,H,W], masks [N,H,W])`).
 * @example new UNet({ inChannels: 1, numClasses: 4 }).forward(x) // [N, 1, 32, 32] -> [N, 4, 32, 32]
 */
export class UNet extends Module {
  readonly depth: number;
  inc: DoubleConv;
  downs: ModuleList<DoubleConv>;
  ups: ModuleList<UpBlock>;
  outc: Conv2d;
  private readonly pool = new MaxPool2d(2);

  constructor(options: UNetOptions = {}) {
    super();
    const { baseWidth = 16, depth = 2, inChannels = 1, numClasses = 2 } = options;
    if (!Number.isInteger(baseWidth) || baseWidth < 1 || !Number.isInteger(depth) || depth < 1)
      throw new Error(`UNet: baseWidth and depth must be positive integers, got ${baseWidth}, ${depth}`);
    this.depth = depth;
    const width = (level: number) => baseWidth * 2 ** level;
    this.inc = new DoubleConv(inChannels, width(0), options);
    this.downs = new ModuleList(
      Array.from({ length: depth }, (_, l) => new DoubleConv(width(l), width(l + 1), options)),
    );
    this.ups = new ModuleList(
      Array.from({ length: depth }, (_, l) => new UpBlock(width(depth - l), width(depth - l - 1), options)),
    );
    this.outc = new Conv2d(width(0), numClasses, 1, layerOptions(options));
  }

  forward(x: Tensor): Tensor {
    const step = 2 ** this.depth;
    if (x.ndim !== 4 || x.shape[2] % step !== 0 || x.shape[3] % step !== 0)
      throw new Error(
        `UNet: input must be [N, C, H, W] with H and W divisible by ${step} (depth ${this.depth}), got ${formatShape(x.shape)}`,
      );
    const skips = [this.inc.forward(x)];
    for (const down of this.downs) skips.push(down.forward(this.pool.forward(skips[skips.length - 1])));
    let out = skips.pop()!;
    for (const up of this.ups) out = up.forward(out, skips.pop()!);
    return this.outc.forward(out);
  }
}
