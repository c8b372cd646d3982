// Activation functions. relu, relu6, leakyRelu, elu, gelu, sigmoid and tanh are primitives with their
// own kernels; silu, maxout, prelu, hardsigmoid, mish and gelu's tanh form are composites; softplus and
// hardswish are primitives whose forward is a composite (softplus's exact derivative sigmoid(βx) cannot
// come out of a stable composite at 0, and hardswish's takes torch's values at ±3); sign and step are
// primitives with a zero or straight-through gradient.

import type { UnaryKind, UnaryParams } from "../backend/backend.js";
import { registerRules, type Rule } from "../autograd/primitive.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { checkFloat, scalarOption, wrapLike } from "./util.js";
import { abs, add, compare, exp, log, mul, neg, sub, unaryRaw } from "./elementwise.js";
import { noGrad } from "../autograd/engine.js";
import { zerosLike } from "../tensor/tensor.js";
import { where } from "./indexing.js";
import { max } from "./reduce.js";
import { reshape } from "./movement.js";

function forwardOf(kind: UnaryKind) {
  return ([x]: readonly Tensor[], params: UnaryParams) =>
    wrapLike(x, x.backend.unary(kind, x.storage, params), x.shape);
}

const rules = {
  relu: {
    forward: forwardOf("relu"),
    backward: (g, [x]) => [mul(g, unaryRaw("greaterScalar", x, { a: 0 }))],
  } satisfies Rule<UnaryParams>,
  relu6: {
    forward: forwardOf("relu6"),
    backward: (g, [x]) => [mul(g, mul(unaryRaw("greaterScalar", x, { a: 0 }), compare("lt", x, 6)))],
  } satisfies Rule<UnaryParams>,
  leakyRelu: {
    forward: forwardOf("leakyRelu"),
    // slope + (1 - slope)·[x > 0]
    backward: (g, [x], _y, { a }) => [
      mul(
        g,
        unaryRaw("greaterScalar", x, { a: 0 })
          .mul(1 - a!)
          .add(a!),
      ),
    ],
  } satisfies Rule<UnaryParams>,
  elu: {
    forward: forwardOf("elu"),
    // 1 where x > 0, else y + alpha
    backward: (g, [x], y, { a }) => {
      const positive = unaryRaw("greaterScalar", x, { a: 0 });
      const negativeSlope = y.add(a!).mul(sub(1, positive));
      return [mul(g, positive.add(negativeSlope))];
    },
  } satisfies Rule<UnaryParams>,
  gelu: {
    forward: forwardOf("gelu"),
    backward: (g, [x]) => [mul(g, unaryRaw("geluGrad", x))],
  } satisfies Rule<UnaryParams>,
  sigmoid: {
    forward: forwardOf("sigmoid"),
    backward: (g, _x, y) => [mul(g, mul(y, sub(1, y)))],
  } satisfies Rule<UnaryParams>,
  tanh: {
    forward: forwardOf("tanh"),
    backward: (g, _x, y) => [mul(g, sub(1, y.square()))],
  } satisfies Rule<UnaryParams>,
  // torch.sign's gradient is zero; `a` = 1 passes the gradient straight through instead.
  sign: {
    forward: forwardOf("sign"),
    backward: (g, _x, _y, { a }) => [a ? g : zerosLike(g)],
  } satisfies Rule<UnaryParams>,
  step: {
    forward: ([x]) => unaryRaw("greaterScalar", x, { a: 0 }),
    backward: (g, _x, _y, { a }) => [a ? g : zerosLike(g)],
  } satisfies Rule<UnaryParams>,
  // torch's derivative, including its kinks: 0 below -3, x/3 + 1/2 on [-3, 3], 1 above.
  hardswish: {
    forward: ([x]) => noGrad(() => mul(x, mul(relu6(add(x, 3)), 1 / 6))),
    backward: (g, [x]) => {
      const inner = add(mul(x, 1 / 3), 0.5);
      return [mul(g, where(compare("lt", x, -3), 0, where(compare("gt", x, 3), 1, inner)))];
    },
  } satisfies Rule<UnaryParams>,
  // a = beta, b = threshold.
  softplus: {
    forward: ([x], p) => noGrad(() => softplusValue(x, p.a!, p.b!)),
    backward: (g, [x], _y, { a, b }) => {
      const bx = mul(x, a!);
      return [mul(g, where(compare("gt", bx, b!), 1, sigmoid(bx)))];
    },
  } satisfies Rule<UnaryParams>,
};

/** log(1 + exp(βx))/β computed stably, and x itself where βx > threshold (torch's linear region). */
function softplusValue(x: Tensor, beta: number, threshold: number): Tensor {
  const bx = mul(x, beta);
  const smooth = mul(add(relu(bx), log(add(exp(neg(abs(bx))), 1))), 1 / beta);
  return where(compare("gt", bx, threshold), x, smooth);
}

const apply = registerRules(rules);

/** The primitives this family records (part of the `Primitive` union, ops/primitives.ts). */
export type ActivationPrimitive = keyof typeof rules;

function activation(name: keyof typeof rules, x: Tensor, params: UnaryParams = {}): Tensor {
  checkFloat(name, x);
  return apply(name, [x], params);
}

/** max(x, 0) */
export const relu = (x: Tensor): Tensor => activation("relu", x);
/** min(max(x, 0), 6), as in MobileNet v2. */
export const relu6 = (x: Tensor): Tensor => activation("relu6", x);
/**
 * x for x > 0, negativeSlope·x otherwise (default slope 0.01 like torch). The slope may be given as a number or
 * as `{ negativeSlope }`; it must be finite.
 */
export const leakyRelu = (x: Tensor, negativeSlope: number | { negativeSlope?: number } = 0.01): Tensor =>
  activation("leakyRelu", x, { a: scalarOption("leakyRelu", "negativeSlope", negativeSlope, 0.01) });
/** x for x > 0, alpha·(exp(x) - 1) otherwise; alpha (default 1, finite) as a number or as `{ alpha }`. */
export const elu = (x: Tensor, alpha: number | { alpha?: number } = 1): Tensor =>
  activation("elu", x, { a: scalarOption("elu", "alpha", alpha, 1) });
/** Options of `gelu` (torch's `approximate`). */
export interface GeluOptions {
  /** "none" (default): exact x·Φ(x); "tanh": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as torch. */
  approximate?: "none" | "tanh";
}

/** GELU: exact x·Φ(x), or its tanh approximation with `{ approximate: "tanh" }` (torch's names). */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  const approximate = options.approximate ?? "none";
  if (approximate === "none") return activation("gelu", x);
  if (approximate !== "tanh") {
    throw new Error(`gelu: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
  }
  checkFloat("gelu", x);
  const inner = mul(add(x, mul(x.square().mul(x), 0.044715)), Math.sqrt(2 / Math.PI));
  return mul(mul(x, 0.5), add(tanh(inner), 1));
}
/** 1 / (1 + exp(-x)) */
export const sigmoid = (x: Tensor): Tensor => activation("sigmoid", x);
/** Hyperbolic tangent elementwise (`torch.tanh`). */
export const tanh = (x: Tensor): Tensor => activation("tanh", x);
/** x·sigmoid(x) (swish). */
export function silu(x: Tensor): Tensor {
  checkFloat("silu", x);
  return mul(x, sigmoid(x));
}

/**
 * Maxout (Goodfellow et al. 2013) over groups of `pieces` consecutive channels:
 * y[n, j, …] = max_i x[n, j·pieces + i, …].
 */
export function maxout(x: Tensor, pieces: number): Tensor {
  if (x.ndim < 2)
    throw new Error(`maxout: input must have a channel dim (N, C, …), got ${formatShape(x.shape)}`);
  const channels = x.shape[1];
  if (!Number.isInteger(pieces) || pieces < 1 || channels % pieces !== 0) {
    throw new Error(
      `maxout: pieces=${pieces} must divide the ${channels} channels of input ${formatShape(x.shape)}`,
    );
  }
  const grouped = reshape(x, [x.shape[0], channels / pieces, pieces, ...x.shape.slice(2)]);
  return max(grouped, 2);
}

/**
 * Parametric ReLU (He et al. 2015, torch.nn.functional.prelu): x for x > 0, weight·x otherwise, with one
 * slope per channel (dim 1) or a single shared slope.
 * @param weight [C] or [1]
 * @example prelu(x, weight) // x [N, C, H, W], weight [C]
 */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  checkFloat("prelu", x);
  if (weight.ndim !== 1)
    throw new Error(`prelu: weight must be 1-D [C] or [1], got ${formatShape(weight.shape)}`);
  const channels = x.ndim >= 2 ? x.shape[1] : 1;
  if (weight.shape[0] !== 1 && weight.shape[0] !== channels) {
    throw new Error(
      `prelu: weight ${formatShape(weight.shape)} must have 1 or ${channels} elements (the channels of input ${formatShape(x.shape)})`,
    );
  }
  const slope =
    weight.shape[0] === 1 || x.ndim < 2
      ? weight
      : reshape(weight, [channels, ...x.shape.slice(2).map(() => 1)]);
  // relu(x) + w·(x - relu(x)): the derivative at 0 is w, as torch's.
  const positive = relu(x);
  return add(positive, mul(slope, sub(x, positive)));
}

/** x·relu6(x + 3)/6 (MobileNet v3's hard swish), with torch's derivative at ±3 (x/3 + 1/2). */
export function hardswish(x: Tensor): Tensor {
  return activation("hardswish", x);
}

/** relu6(x + 3)/6: a piecewise-linear sigmoid (MobileNet v3). */
export function hardsigmoid(x: Tensor): Tensor {
  checkFloat("hardsigmoid", x);
  return mul(relu6(add(x, 3)), 1 / 6);
}

/** Options of `softplus` (torch's `beta` and `threshold`). */
export interface SoftplusOptions {
  /** Default 1. */
  beta?: number;
  /** Above βx > threshold the result is x (default 20), as torch. */
  threshold?: number;
}

/** log(1 + exp(β·x))/β, a smooth ReLU; x itself where β·x > threshold. Derivative sigmoid(β·x). */
export function softplus(x: Tensor, options: SoftplusOptions = {}): Tensor {
  checkFloat("softplus", x);
  const { beta = 1, threshold = 20 } = options;
  if (!(Number.isFinite(beta) && beta > 0))
    throw new Error(`softplus: beta must be a positive number, got ${beta}`);
  if (typeof threshold !== "number" || Number.isNaN(threshold))
    throw new Error(`softplus: threshold must be a number, got ${threshold}`);
  return apply("softplus", [x], { a: beta, b: threshold });
}

/** x·tanh(softplus(x)) (Misra 2019). */
export function mish(x: Tensor): Tensor {
  checkFloat("mish", x);
  return mul(x, tanh(softplus(x)));
}

/** Options of `step` and `sign`'s gradient. */
export interface StepOptions {
  /**
   * false (default): zero gradient, the true derivative almost everywhere (torch.sign's); true: the
   * straight-through estimator, which passes the gradient unchanged as if the op were the identity.
   */
  straightThrough?: boolean;
}

/** -1, 0 or 1 by the sign of x (torch.sign). Gradient zero, or straight-through with the option. */
export function sign(x: Tensor, options: StepOptions = {}): Tensor {
  checkFloat("sign", x);
  return apply("sign", [x], { a: options.straightThrough ? 1 : 0 });
}

/**
 * The perceptron's threshold unit (Heaviside step): 1 where x > 0, else 0. Gradient zero, or
 * straight-through with `{ straightThrough: true }` so that layers below it can still be trained.
 */
export function step(x: Tensor, options: StepOptions = {}): Tensor {
  checkFloat("step", x);
  return apply("step", [x], { a: options.straightThrough ? 1 : 0 });
}
