// Where the notes begin: Rosenblatt's perceptron (a linear unit with a step output, trained by the
// perceptron rule, not by gradients) and the two-layer sigmoid network of the slides that computes XOR,
// which no single perceptron can (Minsky & Papert 1969).

import { Tensor, tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { Rng } from "../tensor/rng.js";
import { noGrad } from "../autograd/engine.js";
import { compare, sub } from "../ops/elementwise.js";
import { linear } from "../ops/matmul.js";
import { Module } from "../nn/module.js";
import { Parameter } from "../nn/parameter.js";
import { Linear } from "../nn/linear.js";
import { Sigmoid } from "../nn/activation.js";
import { Sequential } from "../nn/containers.js";

/**
 * Rosenblatt's perceptron (1957): out = step(w·x + b) with step(z) = 1 for z >= 0, else 0. One unit per
 * output; weights start at zero, as the notes initialise them. Train it with {@link trainPerceptron}.
 * @example new Perceptron(2).forward(tensor([[0, 1]])) // [1, 1] of 0/1
 */
export class Perceptron extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter;

  constructor(inFeatures: number, outFeatures = 1) {
    super();
    for (const [name, v] of [
      ["inFeatures", inFeatures],
      ["outFeatures", outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 1)
        throw new Error(`Perceptron: ${name} must be a positive integer, got ${v}`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    // The rule does not use gradients, so the parameters do not ask for them.
    this.weight = new Parameter(
      tensor(new Float32Array(outFeatures * inFeatures), [outFeatures, inFeatures]),
      false,
    );
    this.bias = new Parameter(tensor(new Float32Array(outFeatures), [outFeatures]), false);
  }

  /** The pre-activation w·x + b, `[N, outFeatures]`. */
  score(x: Tensor): Tensor {
    if (x.ndim !== 2 || x.shape[1] !== this.inFeatures)
      throw new Error(`Perceptron: input must be [N, ${this.inFeatures}], got ${formatShape(x.shape)}`);
    return linear(x, this.weight, this.bias);
  }

  /** step(w·x + b): `[N, outFeatures]` of 0 and 1. */
  forward(x: Tensor): Tensor {
    return sub(1, compare("lt", this.score(x), 0));
  }

  override extraRepr(): string {
    return `${this.inFeatures}, ${this.outFeatures}`;
  }
}

/** Options of `trainPerceptron`. */
export interface PerceptronTrainOptions {
  /** Learning rate η of w ← w + η·x·(y − out). Default 1. */
  lr?: number;
  /** Passes over the data at most. Default 100. */
  maxEpochs?: number;
  /** Visit the samples in a new random order each epoch with this seed; default: in order. */
  shuffleSeed?: number;
}

/**
 * What `trainPerceptron` reports: whether it converged, after how many epochs, and the mistakes per epoch.
 */
export interface PerceptronTrainResult {
  /** True when a whole epoch passed without a mistake. */
  converged: boolean;
  /** Epochs run (the last one mistake-free when converged). */
  epochs: number;
  /** Mistakes (samples whose output was wrong before their update) per epoch. */
  mistakes: number[];
}

function labelsOf(y: Tensor, n: number, outFeatures: number): ArrayLike<number> {
  const shapeOk =
    (y.ndim === 1 && outFeatures === 1 && y.shape[0] === n) ||
    (y.ndim === 2 && y.shape[0] === n && y.shape[1] === outFeatures);
  if (!shapeOk)
    throw new Error(
      `trainPerceptron: targets must be [${n}]${outFeatures === 1 ? "" : ` or [${n}, ${outFeatures}]`} of 0/1, got ${formatShape(y.shape)}`,
    );
  const values = y.toArray();
  if (values.some((v) => v !== 0 && v !== 1)) throw new Error("trainPerceptron: targets must be 0 or 1");
  return values;
}

/**
 * The perceptron learning rule of the notes: for each sample, out = step(w·x + b), then
 * w ← w + η·x·(y − out) and b ← b + η·(y − out). On linearly separable data it stops making mistakes
 * after a bounded number of updates (Novikoff: at most (R/γ)² for radius R and margin γ); on XOR it never
 * does, which `converged: false` reports.
 * @param x `[N, inFeatures]`
 * @param y `[N]` (one output) or `[N, outFeatures]` targets in {0, 1}
 */
export function trainPerceptron(
  model: Perceptron,
  x: Tensor,
  y: Tensor,
  options: PerceptronTrainOptions = {},
): PerceptronTrainResult {
  const { lr = 1, maxEpochs = 100 } = options;
  if (!(Number.isFinite(lr) && lr > 0))
    throw new Error(`trainPerceptron: lr must be a positive number, got ${lr}`);
  if (!Number.isInteger(maxEpochs) || maxEpochs < 1)
    throw new Error(`trainPerceptron: maxEpochs must be a positive integer, got ${maxEpochs}`);
  const n = x.shape[0];
  model.score(x); // checks the input's shape
  const [inF, outF] = [model.inFeatures, model.outFeatures];
  const inputs = x.toArray();
  const targets = labelsOf(y, n, outF);
  const w = Float64Array.from(model.weight.toArray());
  const b = Float64Array.from(model.bias.toArray());
  const rng = options.shuffleSeed === undefined ? null : new Rng(options.shuffleSeed);
  const mistakes: number[] = [];
  for (let epoch = 0; epoch < maxEpochs; epoch++) {
    const order = rng ? rng.permutation(n) : [...Array(n).keys()];
    let wrong = 0;
    for (const i of order) {
      let mistaken = false;
      for (let o = 0; o < outF; o++) {
        let z = b[o];
        for (let j = 0; j < inF; j++) z += w[o * inF + j] * inputs[i * inF + j];
        const error = targets[i * outF + o] - (z >= 0 ? 1 : 0);
        if (error === 0) continue;
        mistaken = true;
        for (let j = 0; j < inF; j++) w[o * inF + j] += lr * error * inputs[i * inF + j];
        b[o] += lr * error;
      }
      if (mistaken) wrong++;
    }
    mistakes.push(wrong);
    if (wrong === 0) break;
  }
  noGrad(() => {
    model.weight.assign(tensor(Float32Array.from(w), [outF, inF]));
    model.bias.assign(tensor(Float32Array.from(b), [outF]));
  });
  return { converged: mistakes.at(-1) === 0, epochs: mistakes.length, mistakes };
}

/**
 * The network of the slides that computes XOR with sigmoid units: h₁ = σ(−20x₁ − 20x₂ + 30) (NAND),
 * h₂ = σ(20x₁ + 20x₂ − 10) (OR), out = σ(20h₁ + 20h₂ − 30) (AND). Outputs are within 5e-5 of the truth
 * table on {0, 1}². The same shape trained from random weights learns XOR by backpropagation.
 * @returns `Sequential(Linear(2, 2), Sigmoid, Linear(2, 1), Sigmoid)` with the slides' weights
 */
export function xorNetwork(): Sequential {
  const hidden = new Linear(2, 2);
  const output = new Linear(2, 1);
  noGrad(() => {
    hidden.weight.assign(
      tensor([
        [-20, -20],
        [20, 20],
      ]),
    );
    hidden.bias!.assign(tensor([30, -10]));
    output.weight.assign(tensor([[20, 20]]));
    output.bias!.assign(tensor([-30]));
  });
  return new Sequential(hidden, new Sigmoid(), output, new Sigmoid());
}
