// softmax and logSoftmax along a dim, as composites with max subtraction for stability.

import type { Tensor } from "../tensor/tensor.js";
import { normalizeAxis } from "../tensor/shape.js";
import { exp, log, sub, div } from "./elementwise.js";
import { max, sum } from "./reduce.js";
import { checkFloat } from "./util.js";
import { noGrad } from "../autograd/engine.js";

/** The per-slice maximum, held constant: it cancels out of softmax, so it needs no gradient. */
function stableShift(x: Tensor, axis: number): Tensor {
  return noGrad(() => max(x, axis, true));
}

/** exp(x) / sum(exp(x)) along `dim`. */
export function softmax(x: Tensor, dim: number): Tensor {
  checkFloat("softmax", x);
  const axis = normalizeAxis("softmax", dim, x.ndim);
  const e = exp(sub(x, stableShift(x, axis)));
  return div(e, sum(e, axis, true));
}

/** x - log(sum(exp(x))) along `dim`, computed without overflow. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  checkFloat("logSoftmax", x);
  const axis = normalizeAxis("logSoftmax", dim, x.ndim);
  const shifted = sub(x, stableShift(x, axis));
  return sub(shifted, log(sum(exp(shifted), axis, true)));
}
