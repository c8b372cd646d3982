// Activation layers (torch.nn.ReLU, Sigmoid, Softmax, …): parameter-free modules around the functional
// activations, so that they can sit in a Sequential and show up in summary() and activation hooks.
// Every one keeps its input's shape except Maxout, which divides the channels by `pieces`.

import type { Tensor } from "../tensor/tensor.js";
import { elu, gelu, leakyRelu, maxout, relu, relu6, sigmoid, silu, tanh } from "../ops/activations.js";
import { logSoftmax, softmax } from "../ops/softmax.js";
import { Module } from "./module.js";
import { checkNumber } from "../ops/util.js";

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

/** Exact GELU, x·Φ(x), with Φ the standard normal CDF. */
export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return gelu(x);
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
