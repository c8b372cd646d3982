// ResNet (He, Zhang, Ren & Sun 2016, "Deep residual learning for image recognition"), ILSVRC-2015's winner:
// each block learns a residual F(x) that is added to its input, y = relu(F(x) + x), so a block that should
// do nothing only has to push F towards zero, and gradients reach early layers through the identity paths.
// That made 152 layers trainable where deeper "plain" nets trained worse than shallow ones. BasicBlock (two
// 3x3 convs) builds ResNet-18/34, Bottleneck (1x1 reduce, 3x3, 1x1 expand x4) ResNet-50/101/152; a 1x1
// projection (option B) matches shapes when a stage halves the size and widens the channels. The CIFAR
// ResNets (Section 4.2 of the paper) are 6n+2 layers on 32x32 images with 16-32-64 filters, where the
// paper's option A shortcut subsamples and zero-pads instead of projecting, so it adds no parameters.

import type { Tensor } from "../tensor/tensor.js";
import { add } from "../ops/elementwise.js";
import { pad, slice, flatten } from "../ops/movement.js";
import { relu } from "../ops/activations.js";
import {
  Module,
  type TensorModule,
  Sequential,
  Conv2d,
  BatchNorm2d,
  ReLU,
  MaxPool2d,
  AdaptiveAvgPool2d,
  Linear,
  Identity,
} from "../nn/index.js";
import { initialize, layerOptions, type LayerOptions, type ModelOptions } from "./common.js";

export function conv3x3(
  inPlanes: number,
  outPlanes: number,
  stride: number,
  o: LayerOptions,
  groups = 1,
): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 3, { ...o, stride, padding: 1, groups, bias: false });
}

export function conv1x1(inPlanes: number, outPlanes: number, stride: number, o: LayerOptions): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 1, { ...o, stride, bias: false });
}

/** What a residual block needs to know beyond its channel counts. */
export interface BlockOptions extends LayerOptions {
  /** Groups of the 3x3 conv (ResNeXt's cardinality). */
  groups?: number;
  /** Channels per group at planes = 64 (ResNeXt's bottleneck width d). */
  baseWidth?: number;
}

/** Two 3x3 convs with batch norm; output channels = planes. */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: TensorModule | null;

  constructor(
    inPlanes: number,
    planes: number,
    stride: number,
    downsample: TensorModule | null,
    o: BlockOptions = {},
  ) {
    super();
    const lo = { dtype: o.dtype, backend: o.backend };
    this.conv1 = conv3x3(inPlanes, planes, stride, lo);
    this.bn1 = new BatchNorm2d(planes, lo);
    this.conv2 = conv3x3(planes, planes, 1, lo);
    this.bn2 = new BatchNorm2d(planes, lo);
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    let out = this.conv1.forward(x);
    out = this.bn1.forward(out);
    out = relu(out);
    out = this.conv2.forward(out);
    out = this.bn2.forward(out);
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return relu(add(out, identity));
  }
}

/**
 * 1x1 conv to `width` channels, 3x3 conv (stride, groups), 1x1 conv to planes·4, each with batch norm.
 * The stride sits on the 3x3 conv (torchvision's "ResNet v1.5"), not on the first 1x1 as in the paper.
 */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  downsample: TensorModule | null;

  constructor(
    inPlanes: number,
    planes: number,
    stride: number,
    downsample: TensorModule | null,
    o: BlockOptions = {},
  ) {
    super();
    const lo = { dtype: o.dtype, backend: o.backend };
    const groups = o.groups ?? 1;
    const width = Math.floor(planes * ((o.baseWidth ?? 64) / 64)) * groups;
    this.conv1 = conv1x1(inPlanes, width, 1, lo);
    this.bn1 = new BatchNorm2d(width, lo);
    this.conv2 = conv3x3(width, width, stride, lo, groups);
    this.bn2 = new BatchNorm2d(width, lo);
    this.conv3 = conv1x1(width, planes * Bottleneck.expansion, 1, lo);
    this.bn3 = new BatchNorm2d(planes * Bottleneck.expansion, lo);
    this.downsample = downsample;
  }

  /** F(x), the residual branch; SE-ResNet rescales its channels before the addition. */
  protected residual(x: Tensor): Tensor {
    let out = this.conv1.forward(x);
    out = this.bn1.forward(out);
    out = relu(out);
    out = this.conv2.forward(out);
    out = this.bn2.forward(out);
    out = relu(out);
    out = this.conv3.forward(out);
    return this.bn3.forward(out);
  }

  forward(x: Tensor): Tensor {
    // The main path first, as torchvision: forward hooks then fire in the same order.
    const out = this.residual(x);
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return relu(add(out, identity));
  }
}

/** A block class usable by ResNet: its constructor and how much it widens `planes`. */
export interface BlockType {
  new (
    inPlanes: number,
    planes: number,
    stride: number,
    downsample: TensorModule | null,
    o?: BlockOptions,
  ): TensorModule;
  readonly expansion: number;
}

export interface ResNetOptions extends ModelOptions {
  /** CIFAR-style stem for small (e.g. 32x32) images: 3x3 stride-1 conv and no max pool. */
  smallInput?: boolean;
}

export interface ResNetConfig {
  block: BlockType;
  /** Blocks per stage (ResNet-50: [3, 4, 6, 3]). */
  layers: readonly [number, number, number, number];
  groups?: number;
  baseWidth?: number;
}

/**
 * ResNet for ImageNet in torchvision's layout: conv1 7x7/2, bn1, relu, maxpool 3x3/2, layer1-4 (64, 128,
 * 256, 512 planes; stride 2 from layer2 on), global average pool, fc. Conv weights are Kaiming-normal (fan
 * out), batch norms start at weight 1, bias 0, as torchvision initialises them.
 * @example new ResNet({ block: Bottleneck, layers: [3, 4, 6, 3] }).forward(x) // [N,3,224,224] -> [N,1000]
 */
export class ResNet extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  maxpool: TensorModule;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  layer4: Sequential;
  avgpool: AdaptiveAvgPool2d;
  fc: Linear;

  constructor(config: ResNetConfig, options: ResNetOptions = {}) {
    super();
    const o = layerOptions(options);
    const blockOptions: BlockOptions = { ...o, groups: config.groups, baseWidth: config.baseWidth };
    const inChannels = options.inChannels ?? 3;
    this.conv1 = options.smallInput
      ? new Conv2d(inChannels, 64, 3, { ...o, padding: 1, bias: false })
      : new Conv2d(inChannels, 64, 7, { ...o, stride: 2, padding: 3, bias: false });
    this.bn1 = new BatchNorm2d(64, o);
    this.relu = new ReLU();
    this.maxpool = options.smallInput ? new Identity() : new MaxPool2d(3, { stride: 2, padding: 1 });
    let inPlanes = 64;
    const stage = (planes: number, blocks: number, stride: number): Sequential => {
      const { block } = config;
      const outPlanes = planes * block.expansion;
      const downsample =
        stride !== 1 || inPlanes !== outPlanes
          ? new Sequential(conv1x1(inPlanes, outPlanes, stride, o), new BatchNorm2d(outPlanes, o))
          : null;
      const layer = new Sequential(new block(inPlanes, planes, stride, downsample, blockOptions));
      inPlanes = outPlanes;
      for (let i = 1; i < blocks; i++) layer.append(new block(inPlanes, planes, 1, null, blockOptions));
      return layer;
    };
    this.layer1 = stage(64, config.layers[0], 1);
    this.layer2 = stage(128, config.layers[1], 2);
    this.layer3 = stage(256, config.layers[2], 2);
    this.layer4 = stage(512, config.layers[3], 2);
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.fc = new Linear(512 * config.block.expansion, options.numClasses ?? 1000, o);
    initialize(this, { conv: "kaimingNormalFanOut", batchNorm: true });
  }

  forward(x: Tensor): Tensor {
    x = this.conv1.forward(x);
    x = this.bn1.forward(x);
    x = this.relu.forward(x);
    x = this.maxpool.forward(x);
    x = this.layer1.forward(x);
    x = this.layer2.forward(x);
    x = this.layer3.forward(x);
    x = this.layer4.forward(x);
    x = this.avgpool.forward(x);
    x = flatten(x, 1);
    return this.fc.forward(x);
  }
}

/** Depth → blocks per stage for the ImageNet ResNets (the paper's Table 1). */
export const RESNET_LAYERS = {
  18: { block: BasicBlock, layers: [2, 2, 2, 2] },
  34: { block: BasicBlock, layers: [3, 4, 6, 3] },
  50: { block: Bottleneck, layers: [3, 4, 6, 3] },
  101: { block: Bottleneck, layers: [3, 4, 23, 3] },
  152: { block: Bottleneck, layers: [3, 8, 36, 3] },
} as const satisfies Record<number, ResNetConfig>;

export function resnet(depth: keyof typeof RESNET_LAYERS, options: ResNetOptions = {}): ResNet {
  const config = RESNET_LAYERS[depth];
  if (!config) throw new Error(`resnet: depth must be 18, 34, 50, 101 or 152, got ${depth}`);
  return new ResNet(config, options);
}

/**
 * Option A shortcut: take every stride-th pixel and zero-pad the new channels equally on both sides, so
 * the identity path changes shape without any parameters.
 */
export class PadShortcut extends Module {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly stride: number,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    const sub =
      this.stride === 1 ? x : slice(slice(x, 2, 0, undefined, this.stride), 3, 0, undefined, this.stride);
    const extra = this.outChannels - this.inChannels;
    const before = Math.floor(extra / 2);
    return pad(sub, [0, 0, 0, 0, before, extra - before]);
  }
}

export interface CifarResNetOptions extends ModelOptions {
  /** Total depth 6n + 2: 20, 32, 44, 56, 110, … */
  depth?: number;
  /** 'A': zero-padding identity shortcuts (the paper's CIFAR choice); 'B': 1x1 projections where shapes change. */
  shortcut?: "A" | "B";
}

/**
 * ResNet for CIFAR-10 (He et al. 2016, Section 4.2): conv 3x3 with 16 filters, three stages of n BasicBlocks
 * at 32x32 (16 filters), 16x16 (32) and 8x8 (64), global average pool, fc. ResNet-20 has 0.27M parameters,
 * ResNet-56 0.85M, ResNet-110 1.7M (with option A).
 * @example new CifarResNet({ depth: 20 }).forward(x) // x [N, 3, 32, 32] -> [N, 10]
 */
export class CifarResNet extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  avgpool: AdaptiveAvgPool2d;
  fc: Linear;

  constructor(options: CifarResNetOptions = {}) {
    super();
    const depth = options.depth ?? 20;
    if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
      throw new Error(`CifarResNet: depth must be 6n+2 (20, 32, 44, 56, 110, …), got ${depth}`);
    }
    const n = (depth - 2) / 6;
    const o = layerOptions(options);
    const shortcut = options.shortcut ?? "A";
    this.conv1 = conv3x3(options.inChannels ?? 3, 16, 1, o);
    this.bn1 = new BatchNorm2d(16, o);
    let inPlanes = 16;
    const stage = (planes: number, stride: number): Sequential => {
      let downsample: TensorModule | null = null;
      if (stride !== 1 || inPlanes !== planes) {
        downsample =
          shortcut === "A"
            ? new PadShortcut(inPlanes, planes, stride)
            : new Sequential(conv1x1(inPlanes, planes, stride, o), new BatchNorm2d(planes, o));
      }
      const layer = new Sequential(new BasicBlock(inPlanes, planes, stride, downsample, o));
      inPlanes = planes;
      for (let i = 1; i < n; i++) layer.append(new BasicBlock(planes, planes, 1, null, o));
      return layer;
    };
    this.layer1 = stage(16, 1);
    this.layer2 = stage(32, 2);
    this.layer3 = stage(64, 2);
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.fc = new Linear(64, options.numClasses ?? 10, o);
    initialize(this, { conv: "kaimingNormalFanOut", batchNorm: true });
  }

  forward(x: Tensor): Tensor {
    let h = relu(this.bn1.forward(this.conv1.forward(x)));
    h = this.layer3.forward(this.layer2.forward(this.layer1.forward(h)));
    return this.fc.forward(flatten(this.avgpool.forward(h), 1));
  }
}
