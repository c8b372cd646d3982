// LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document
// recognition"): the convolutional network that read cheques. Two versions: the classic one as the paper
// describes it (32x32 input, scaled tanh, average-pool subsampling, the sparse C3 connection table that
// breaks the symmetry between feature maps), and the modern one every course teaches today (ReLU and max
// pooling on 28x28 MNIST), whose layout and names match test/fixtures/torch/end_to_end.json.

import type { Tensor } from "../tensor/tensor.js";
import { conv2d } from "../ops/conv.js";
import { mul } from "../ops/elementwise.js";
import { relu, tanh } from "../ops/activations.js";
import { tensor } from "../tensor/tensor.js";
import { noGrad } from "../autograd/engine.js";
import { Module, Conv2d, Linear, MaxPool2d, AvgPool2d, Flatten } from "../nn/index.js";
import { layerOptions, type LayerOptions, type ModelOptions } from "./common.js";

/**
 * C3's connection table (LeCun et al. 1998, Table I): entry i lists the S2 maps that C3 map i reads.
 * Maps 0-5 read 3 neighbouring maps, 6-11 read 4 neighbours, 12-14 read 4 non-neighbours, 15 reads all 6.
 * Taking different subsets forces the maps to learn different features and cuts connections.
 */
export const LENET_C3_TABLE: readonly (readonly number[])[] = [
  [0, 1, 2],
  [1, 2, 3],
  [2, 3, 4],
  [3, 4, 5],
  [4, 5, 0],
  [5, 0, 1],
  [0, 1, 2, 3],
  [1, 2, 3, 4],
  [2, 3, 4, 5],
  [3, 4, 5, 0],
  [4, 5, 0, 1],
  [5, 0, 1, 2],
  [0, 1, 3, 4],
  [1, 2, 4, 5],
  [0, 2, 3, 5],
  [0, 1, 2, 3, 4, 5],
];

/**
 * A convolution in which output map o only sees the input maps `table[o]`: a Conv2d whose weight is
 * multiplied by a fixed 0/1 mask in every forward pass. Masked weights start at zero and receive zero
 * gradient, so they stay zero; `liveParameters` counts only the connections the table keeps.
 * @example new ConnectionTableConv2d(6, 16, 5, LENET_C3_TABLE) // x [N, 6, 14, 14] -> [N, 16, 10, 10]
 */
export class ConnectionTableConv2d extends Conv2d {
  readonly table: readonly (readonly number[])[];
  private readonly mask: Tensor;

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    table: readonly (readonly number[])[],
    options: LayerOptions = {},
  ) {
    super(inChannels, outChannels, kernelSize, options);
    if (table.length !== outChannels || table.some((row) => row.some((c) => c < 0 || c >= inChannels))) {
      throw new Error(
        `ConnectionTableConv2d(${inChannels}, ${outChannels}): the table needs ${outChannels} rows of input maps in [0, ${inChannels})`,
      );
    }
    this.table = table;
    const area = kernelSize * kernelSize;
    const values = new Float32Array(outChannels * inChannels * area);
    table.forEach((inputs, o) => {
      for (const i of inputs) values.fill(1, (o * inChannels + i) * area, (o * inChannels + i + 1) * area);
    });
    this.mask = tensor(values, this.weight.shape, {
      dtype: this.weight.dtype,
      backend: this.weight.backend.name,
    });
    noGrad(() => this.weight.assign(mul(this.weight, this.mask)));
  }

  /** Weights and biases the table keeps (C3: 60 connections x 25 + 16 = 1516 in the paper). */
  get liveParameters(): number {
    const area = this.kernelSize[0] * this.kernelSize[1];
    const connections = this.table.reduce((s, row) => s + row.length, 0);
    return connections * area + (this.bias ? this.outChannels : 0);
  }

  /** Multiply-accumulates of the connections that exist, for summary(). */
  countMacs(_inputs: readonly Tensor[], output: Tensor): number {
    const [n, , h, w] = output.shape;
    const connections = this.table.reduce((s, row) => s + row.length, 0);
    return n * h * w * connections * this.kernelSize[0] * this.kernelSize[1];
  }

  override forward(x: Tensor): Tensor {
    // Bad input: let Conv2d throw its descriptive error.
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) return super.forward(x);
    return conv2d(x, mul(this.weight, this.mask), this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
    });
  }
}

/** LeCun's squashing function f(a) = 1.7159·tanh(2a/3): f(±1) = ±1 and the gain is largest near 0. */
export function scaledTanh(x: Tensor): Tensor {
  return mul(tanh(mul(x, 2 / 3)), 1.7159);
}

export interface LeNet5ClassicOptions extends ModelOptions {
  /** Use C3's sparse connection table (default true, as in the paper); false connects C3 to all 6 maps. */
  connectionTable?: boolean;
}

/**
 * LeNet-5 as in LeCun et al. 1998: 32x32 input, C1 6@28x28, S2 6@14x14, C3 16@10x10 (connection table),
 * S4 16@5x5, C5 120, F6 84, output. Subsampling is average pooling followed by the scaled tanh (the paper's
 * S layers also have one trainable gain and bias per map, omitted here); the output layer is a Linear layer
 * where the paper used Euclidean RBF units.
 * @example new LeNet5Classic({ numClasses: 10 }).forward(x) // x [N, 1, 32, 32] -> [N, 10]
 */
export class LeNet5Classic extends Module {
  c1: Conv2d;
  s2: AvgPool2d;
  c3: Conv2d;
  s4: AvgPool2d;
  c5: Conv2d;
  flatten: Flatten;
  f6: Linear;
  output: Linear;

  constructor(options: LeNet5ClassicOptions = {}) {
    super();
    const o = layerOptions(options);
    this.c1 = new Conv2d(options.inChannels ?? 1, 6, 5, o);
    this.s2 = new AvgPool2d(2);
    this.c3 =
      options.connectionTable === false
        ? new Conv2d(6, 16, 5, o)
        : new ConnectionTableConv2d(6, 16, 5, LENET_C3_TABLE, o);
    this.s4 = new AvgPool2d(2);
    this.c5 = new Conv2d(16, 120, 5, o);
    this.flatten = new Flatten();
    this.f6 = new Linear(120, 84, o);
    this.output = new Linear(84, options.numClasses ?? 10, o);
  }

  forward(x: Tensor): Tensor {
    let h = scaledTanh(this.s2.forward(this.c1.forward(x)));
    h = scaledTanh(this.s4.forward(this.c3.forward(h)));
    h = this.flatten.forward(scaledTanh(this.c5.forward(h)));
    return this.output.forward(scaledTanh(this.f6.forward(h)));
  }
}

/**
 * The modern LeNet-5: ReLU and 2x2 max pooling, 28x28 input (conv1 pads by 2 instead of padding the image
 * to 32x32). Parameter names conv1, conv2, fc1, fc2, fc3 as in the PyTorch tutorials.
 * @example new LeNet5().forward(x) // x [N, 1, 28, 28] -> [N, 10]
 */
export class LeNet5 extends Module {
  conv1: Conv2d;
  pool1: MaxPool2d;
  conv2: Conv2d;
  pool2: MaxPool2d;
  flatten: Flatten;
  fc1: Linear;
  fc2: Linear;
  fc3: Linear;

  constructor(options: ModelOptions = {}) {
    super();
    const o = layerOptions(options);
    this.conv1 = new Conv2d(options.inChannels ?? 1, 6, 5, { ...o, padding: 2 });
    this.pool1 = new MaxPool2d(2);
    this.conv2 = new Conv2d(6, 16, 5, o);
    this.pool2 = new MaxPool2d(2);
    this.flatten = new Flatten();
    this.fc1 = new Linear(16 * 5 * 5, 120, o);
    this.fc2 = new Linear(120, 84, o);
    this.fc3 = new Linear(84, options.numClasses ?? 10, o);
  }

  forward(x: Tensor): Tensor {
    let h = this.pool1.forward(relu(this.conv1.forward(x)));
    h = this.pool2.forward(relu(this.conv2.forward(h)));
    h = this.flatten.forward(h);
    h = relu(this.fc2.forward(relu(this.fc1.forward(h))));
    return this.fc3.forward(h);
  }
}
