// Activation layers (torch.nn.ReLU, Sigmoid, Softmax, …): parameter-free modules around the functional
// activations, so that they can sit in a Sequential and show up in summary() and activation hooks.
// Every one keeps its input's shape except Maxout, which divides the channels by `pieces`. PReLU is the one
// with a parameter (its slopes).

import type { Tensor } from "../tensor/tensor.js";
import {
  elu,
  gelu,
  hardsigmoid,
  hardswish,
  leakyRelu,
  maxout,
  mish,
  prelu,
  relu,
  relu6,
  sign,
  sigmoid,
  silu,
  softplus,
  step,
  tanh,
  type GeluOptions,
  type SoftplusOptions,
  type StepOptions,
} from "../ops/activations.js";
import { Parameter } from "./parameter.js";
import { empty, type ModuleOptions } from "./parameter.js";
import { constant_ } from "./init.js";
import { logSoftmax, softmax } from "../ops/softmax.js";
import { Module } from "./module.js";
import { checkNumber, checkOptionKeys } from "../ops/util.js";

/**
 * max(x, 0) elementwise.
 * @example new Sequential(new Conv2d(3, 16, 3), new ReLU())
 */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** min(max(x, 0), 6) elementwise (MobileNet v2). */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return relu6(x);
  }
}

/**
 * x for x > 0, negativeSlope·x otherwise.
 * @example new LeakyReLU(0.2).forward(x) // same shape as x
 */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    checkNumber("LeakyReLU", "negativeSlope", negativeSlope);
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** 1 / (1 + exp(-x)) elementwise. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** tanh(x) elementwise (LeNet-5's squashing function). */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** x for x > 0, alpha·(exp(x) - 1) otherwise (Clevert et al. 2015). */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
    checkNumber("ELU", "alpha", alpha);
  }

  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }

  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/**
 * GELU, x·Φ(x) with Φ the standard normal CDF; `{ approximate: "tanh" }` for the tanh form (torch's).
 * @example new GELU({ approximate: "tanh" }).forward(x) // same shape as x
 */
export class GELU extends Module {
  readonly approximate: "none" | "tanh";

  constructor(options: GeluOptions = {}) {
    super();
    checkOptionKeys("GELU", options, ["approximate"]);
    const approximate = options.approximate ?? "none";
    if (approximate !== "none" && approximate !== "tanh") {
      throw new Error(`GELU: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
    }
    this.approximate = approximate;
  }

  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return this.approximate === "none" ? "" : `approximate="${this.approximate}"`;
  }
}

/** x·sigmoid(x) (SiLU, also called swish). */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/**
 * Maxout (Goodfellow et al. 2013): the maximum over groups of `pieces` consecutive channels,
 * [N, C, …] -> [N, C/pieces, …].
 * @example new Maxout(4).forward(x) // x [8, 256] -> [8, 64]
 */
export class Maxout extends Module {
  readonly pieces: number;

  constructor(pieces: number) {
    super();
    if (!Number.isInteger(pieces) || pieces < 1)
      throw new Error(`Maxout: pieces must be a positive integer, got ${pieces}`);
    this.pieces = pieces;
  }

  forward(x: Tensor): Tensor {
    return maxout(x, this.pieces);
  }

  override extraRepr(): string {
    return `pieces=${this.pieces}`;
  }
}

/**
 * exp(x) / Σ exp(x) along `dim` (the class dim 1 by default): turns logits into probabilities.
 * Train on logits with CrossEntropyLoss instead of Softmax + NLLLoss, which is less stable.
 * @example new Softmax().forward(logits) // [N, C], each row sums to 1
 */
export class Softmax extends Module {
  constructor(readonly dim = 1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** log(softmax(x)) along `dim`, computed stably; pairs with NLLLoss. */
export class LogSoftmax extends Module {
  constructor(readonly dim = 1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** Options of `PReLU` (torch.nn.PReLU's `num_parameters` and `init`). */
export interface PReLUOptions extends ModuleOptions {
  /** 1 (one slope shared by all channels, the default) or the number of channels C. */
  numParameters?: number;
  /** Initial slope. Default 0.25. */
  init?: number;
}

/**
 * Parametric ReLU (torch.nn.PReLU): x for x > 0, weight·x otherwise, with a learned slope per channel (dim 1)
 * or one shared slope. Parameter `weight` [numParameters], initialised to `init`.
 * @example new PReLU({ numParameters: 64 }).forward(x) // x [N, 64, H, W]
 */
export class PReLU extends Module {
  /** torch's num_parameters (the name `numParameters()` is Module's parameter count). */
  readonly numSlopes: number;
  weight: Parameter;

  constructor(options: PReLUOptions = {}) {
    super();
    checkOptionKeys("PReLU", options, ["numParameters", "init", "dtype", "backend"]);
    const numParameters = options.numParameters ?? 1;
    const init = options.init ?? 0.25;
    if (!Number.isInteger(numParameters) || numParameters < 1)
      throw new Error(`PReLU: numParameters must be a positive integer, got ${numParameters}`);
    if (!Number.isFinite(init)) throw new Error(`PReLU: init must be a finite number, got ${init}`);
    this.numSlopes = numParameters;
    this.weight = new Parameter(empty([numParameters], options));
    constant_(this.weight, init);
  }

  forward(x: Tensor): Tensor {
    return prelu(x, this.weight);
  }

  override extraRepr(): string {
    return `numParameters=${this.numSlopes}`;
  }
}

/** x·relu6(x + 3)/6 (torch.nn.Hardswish, MobileNet v3). */
export class Hardswish extends Module {
  forward(x: Tensor): Tensor {
    return hardswish(x);
  }
}

/** relu6(x + 3)/6 (torch.nn.Hardsigmoid, MobileNet v3's squeeze-excitation gate). */
export class Hardsigmoid extends Module {
  forward(x: Tensor): Tensor {
    return hardsigmoid(x);
  }
}

/**
 * log(1 + exp(β·x))/β (torch.nn.Softplus), linear above β·x > threshold.
 * @example new Softplus({ beta: 2, threshold: 10 })
 */
export class Softplus extends Module {
  readonly beta: number;
  readonly threshold: number;

  constructor(options: SoftplusOptions = {}) {
    super();
    checkOptionKeys("Softplus", options, ["beta", "threshold"]);
    this.beta = options.beta ?? 1;
    this.threshold = options.threshold ?? 20;
    if (!(Number.isFinite(this.beta) && this.beta > 0))
      throw new Error(`Softplus: beta must be a positive number, got ${this.beta}`);
    if (typeof this.threshold !== "number" || Number.isNaN(this.threshold))
      throw new Error(`Softplus: threshold must be a number, got ${this.threshold}`);
  }

  forward(x: Tensor): Tensor {
    return softplus(x, { beta: this.beta, threshold: this.threshold });
  }

  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** x·tanh(softplus(x)) (torch.nn.Mish). */
export class Mish extends Module {
  forward(x: Tensor): Tensor {
    return mish(x);
  }
}

/**
 * -1, 0 or 1 by the sign of x. Its gradient is zero (torch.sign's), so nothing below it learns unless
 * `{ straightThrough: true }` passes the gradient through unchanged.
 */
export class Sign extends Module {
  readonly straightThrough: boolean;

  constructor(options: StepOptions = {}) {
    super();
    this.straightThrough = options.straightThrough ?? false;
  }

  forward(x: Tensor): Tensor {
    return sign(x, { straightThrough: this.straightThrough });
  }

  override extraRepr(): string {
    return this.straightThrough ? "straightThrough=true" : "";
  }
}

/**
 * The perceptron's threshold unit: 1 where x > 0, else 0. Gradient zero, or straight-through with
 * `{ straightThrough: true }`.
 * @example new Sequential(new Linear(2, 1), new Step()) // Rosenblatt's perceptron
 */
export class Step extends Module {
  readonly straightThrough: boolean;

  constructor(options: StepOptions = {}) {
    super();
    this.straightThrough = options.straightThrough ?? false;
  }

  forward(x: Tensor): Tensor {
    return step(x, { straightThrough: this.straightThrough });
  }

  override extraRepr(): string {
    return this.straightThrough ? "straightThrough=true" : "";
  }
}
