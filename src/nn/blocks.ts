// Composite blocks written as ordinary Module code: Concat (run branches side by side and join their
// outputs, Inception-style), Residual (y = body(x) + shortcut(x)), and two worked examples in torchvision's
// structure and state-dict names: GoogLeNet's InceptionBlock and ResNet's BasicResidualBlock.

import type { Tensor } from "../tensor/tensor.js";
import { formatShape, normalizeAxis, sameShape } from "../tensor/shape.js";
import { add } from "../ops/elementwise.js";
import { concat } from "../ops/movement.js";
import { relu } from "../ops/activations.js";
import type { Size2 } from "../ops/conv.js";
import { Module, type TensorModule } from "./module.js";
import { Sequential } from "./containers.js";
import { Conv2d } from "./conv.js";
import { BatchNorm2d } from "./normalization.js";
import { MaxPool2d } from "./pooling.js";
import { ReLU } from "./activation.js";
import type { ModuleOptions } from "./empty.js";

/**
 * Runs every branch on the same input and concatenates the outputs along `dim` (channels by default), as
 * an Inception module does. Branches given as an array are named '0', '1', …; as a record, by its keys.
 * Branch outputs must agree in every dim but `dim`.
 * @example
 * const block = new Concat([new Conv2d(16, 8, 1), new Conv2d(16, 4, 3, { padding: 1 })]);
 * block.forward(x); // x [N, 16, H, W] -> [N, 12, H, W]
 */
export class Concat extends Module {
  readonly dim: number;
  private readonly branchList: [string, TensorModule][];

  constructor(branches: readonly TensorModule[] | Readonly<Record<string, TensorModule>>, dim = 1) {
    super();
    const entries = Array.isArray(branches)
      ? branches.map((b, i): [string, TensorModule] => [String(i), b])
      : Object.entries(branches as Record<string, TensorModule>);
    if (entries.length === 0) throw new Error(`${new.target.name}: needs at least one branch`);
    if (!Number.isInteger(dim)) throw new Error(`${new.target.name}: dim must be an integer, got ${dim}`);
    this.dim = dim;
    this.branchList = entries;
    for (const [name, branch] of entries) this.registerModule(name, branch);
  }

  /** The branches in order, with their names. */
  branches(): [string, TensorModule][] {
    return [...this.branchList];
  }

  forward(x: Tensor): Tensor {
    const outputs = this.branchList.map(([, branch]) => branch.forward(x));
    const first = outputs[0];
    const axis = normalizeAxis(this.constructor.name, this.dim, first.ndim);
    const fits = (t: Tensor) =>
      t.ndim === first.ndim && t.shape.every((d, i) => i === axis || d === first.shape[i]);
    if (!outputs.every(fits)) {
      const shapes = outputs.map((t, i) => `${this.branchList[i][0]} ${formatShape(t.shape)}`).join(", ");
      throw new Error(
        `${this.constructor.name}: branch outputs differ outside dim ${this.dim}: ${shapes}; input ${formatShape(x.shape)}`,
      );
    }
    return concat(outputs, axis);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * A residual connection (He et al. 2016): y = body(x) + shortcut(x), or body(x) + x without a shortcut.
 * The two terms must have the same shape; when the body changes channels or resolution, pass a projection
 * shortcut (e.g. a strided 1x1 Conv2d). Children are named `body` and `shortcut`.
 * @example
 * const block = new Residual(new Sequential(new Conv2d(16, 16, 3, { padding: 1 }), new ReLU()));
 * block.forward(x); // x [N, 16, H, W] -> [N, 16, H, W]
 */
export class Residual extends Module {
  body: TensorModule;
  shortcut: TensorModule | null;

  constructor(body: TensorModule, shortcut?: TensorModule | null) {
    super();
    this.body = body;
    this.shortcut = shortcut ?? null;
  }

  forward(x: Tensor): Tensor {
    const y = this.body.forward(x);
    const s = this.shortcut ? this.shortcut.forward(x) : x;
    if (!sameShape(y.shape, s.shape)) {
      throw new Error(
        `Residual: body output ${formatShape(y.shape)} and ${this.shortcut ? "shortcut output" : "identity shortcut"} ` +
          `${formatShape(s.shape)} differ for input ${formatShape(x.shape)}; give a projection shortcut that maps ` +
          `the input to the body's output shape`,
      );
    }
    return add(y, s);
  }
}

/**
 * Conv2d (no bias) + BatchNorm2d (eps 1e-3) + ReLU: torchvision GoogLeNet's BasicConv2d, with its
 * state-dict names `conv.weight`, `bn.weight`, `bn.running_mean`, ….
 * @example new BasicConv2d(3, 64, 7, { stride: 2, padding: 3 }) // GoogLeNet's conv1
 */
export class BasicConv2d extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Size2,
    options: ModuleOptions & { stride?: Size2; padding?: Size2 } = {},
  ) {
    super();
    this.conv = new Conv2d(inChannels, outChannels, kernelSize, { ...options, bias: false });
    this.bn = new BatchNorm2d(outChannels, { eps: 1e-3, dtype: options.dtype, backend: options.backend });
  }

  forward(x: Tensor): Tensor {
    return relu(this.bn.forward(this.conv.forward(x)));
  }
}

export interface InceptionBlockOptions extends ModuleOptions {
  /**
   * Kernel of the third branch after its 1x1 reduction: 5 as in the GoogLeNet paper, or 3 as torchvision
   * builds it (a known deviation kept for weight compatibility). Default 3.
   */
  branch3KernelSize?: 3 | 5;
}

/**
 * GoogLeNet's Inception module (Szegedy et al. 2015) in torchvision's form: four branches on the same input,
 * concatenated along channels —
 * `branch1` 1x1; `branch2` 1x1 → 3x3; `branch3` 1x1 → 3x3 (5x5 in the paper); `branch4` 3x3 max-pool
 * (stride 1, padding 1) → 1x1; every conv a BasicConv2d (conv + batch norm + ReLU).
 * Output channels: ch1x1 + ch3x3 + ch5x5 + poolProj; spatial size unchanged.
 * @example
 * const inception3a = new InceptionBlock(192, 64, 96, 128, 16, 32, 32);
 * inception3a.forward(x); // x [N, 192, 28, 28] -> [N, 256, 28, 28]
 */
export class InceptionBlock extends Concat {
  readonly inChannels: number;
  readonly outChannels: number;

  constructor(
    inChannels: number,
    ch1x1: number,
    ch3x3red: number,
    ch3x3: number,
    ch5x5red: number,
    ch5x5: number,
    poolProj: number,
    options: InceptionBlockOptions = {},
  ) {
    const k = options.branch3KernelSize ?? 3;
    const layer = { dtype: options.dtype, backend: options.backend };
    super({
      branch1: new BasicConv2d(inChannels, ch1x1, 1, layer),
      branch2: new Sequential(
        new BasicConv2d(inChannels, ch3x3red, 1, layer),
        new BasicConv2d(ch3x3red, ch3x3, 3, { ...layer, padding: 1 }),
      ),
      branch3: new Sequential(
        new BasicConv2d(inChannels, ch5x5red, 1, layer),
        new BasicConv2d(ch5x5red, ch5x5, k, { ...layer, padding: (k - 1) / 2 }),
      ),
      branch4: new Sequential(
        new MaxPool2d(3, { stride: 1, padding: 1, ceilMode: true }),
        new BasicConv2d(inChannels, poolProj, 1, layer),
      ),
    });
    this.inChannels = inChannels;
    this.outChannels = ch1x1 + ch3x3 + ch5x5 + poolProj;
  }

  override extraRepr(): string {
    return `${this.inChannels}, outChannels=${this.outChannels}`;
  }
}

export interface BasicResidualBlockOptions extends ModuleOptions {
  /** Stride of the first 3x3 convolution (2 to halve the resolution). Default 1. */
  stride?: number;
}

/**
 * ResNet-18/34's basic block (torchvision's BasicBlock): conv3x3(stride) → BN → ReLU → conv3x3 → BN, plus
 * the shortcut, then ReLU. The shortcut is the identity, or — when the stride is not 1 or the channel count
 * changes — a projection `downsample` = 1x1 conv(stride, no bias) → BN. Children are named as torchvision's
 * (`conv1`, `bn1`, `relu`, `conv2`, `bn2`, `downsample.0`, `downsample.1`), so state dicts match.
 * @example
 * const block = new BasicResidualBlock(64, 128, { stride: 2 });
 * block.forward(x); // x [N, 64, 56, 56] -> [N, 128, 28, 28]
 */
export class BasicResidualBlock extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly stride: number;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Sequential | null;

  constructor(inChannels: number, outChannels: number, options: BasicResidualBlockOptions = {}) {
    super();
    const stride = options.stride ?? 1;
    const layer = { dtype: options.dtype, backend: options.backend };
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.stride = stride;
    this.conv1 = new Conv2d(inChannels, outChannels, 3, { ...layer, stride, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(outChannels, layer);
    this.relu = new ReLU();
    this.conv2 = new Conv2d(outChannels, outChannels, 3, { ...layer, padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(outChannels, layer);
    this.downsample =
      stride !== 1 || inChannels !== outChannels
        ? new Sequential(
            new Conv2d(inChannels, outChannels, 1, { ...layer, stride, bias: false }),
            new BatchNorm2d(outChannels, layer),
          )
        : null;
  }

  forward(x: Tensor): Tensor {
    // torchvision's order (main path, then downsample), so forward hooks and summary() list layers alike.
    const out = this.bn2.forward(
      this.conv2.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x)))),
    );
    const identity = this.downsample ? this.downsample.forward(x) : x;
    if (!sameShape(out.shape, identity.shape)) {
      throw new Error(
        `BasicResidualBlock(${this.inChannels}, ${this.outChannels}): residual ${formatShape(out.shape)} and ` +
          `shortcut ${formatShape(identity.shape)} differ for input ${formatShape(x.shape)}`,
      );
    }
    return this.relu.forward(add(out, identity));
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, stride=${this.stride}`;
  }
}
