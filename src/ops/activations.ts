// Activation functions. relu, relu6, leakyRelu, elu, gelu, sigmoid and tanh are primitives with their
// own kernels; silu and maxout are composites.

import type { UnaryKind, UnaryParams } from "../backend/backend.js";
import { registerRules, type Rule } from "../autograd/primitive.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { checkFloat, scalarOption, wrapLike } from "./util.js";
import { compare, mul, sub, unaryRaw } from "./elementwise.js";
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
};

const apply = registerRules(rules);

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
/** Exact GELU, x·Φ(x). */
export const gelu = (x: Tensor): Tensor => activation("gelu", x);
/** 1 / (1 + exp(-x)) */
export const sigmoid = (x: Tensor): Tensor => activation("sigmoid", x);
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
