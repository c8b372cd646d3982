// Selection by condition or index: where (a primitive over the backend's select kernel), gather and topk.
// gather is a composite — a one-hot matrix of the indices times the input — so its gradient (a scatter-add)
// comes from matmul's and every backend runs it without a new kernel; topk is a primitive over the backends'
// topk kernels (values and indices in one pass), its gradient placed back at the indices.

import { registerRules, type Rule } from "../autograd/primitive.js";
import { Tensor, type TensorLike, tensor } from "../tensor/tensor.js";
import { broadcastShapes, broadcastStrides, formatShape, normalizeAxis, sizeOf } from "../tensor/shape.js";
import { asTensor, checkCompatible, checkFloat, valuesOnHost, wrapLike } from "./util.js";
import type { TopkGeometry } from "../backend/backend.js";
import { expand, permute, reshape, slice } from "./movement.js";
import { matmul } from "./matmul.js";

/** Broadcasts without recording a gradient (the condition of `where`, the zeros of its backward). */
function broadcastRaw(t: Tensor, shape: readonly number[]): Tensor {
  if (t.ndim === shape.length && t.shape.every((d, i) => d === shape[i])) return t;
  return wrapLike(t, t.backend.gather(t.storage, shape, broadcastStrides(t.shape, shape), 0), shape);
}

const rules = {
  /** inputs [cond, a, b], all of the output's shape. */
  where: {
    forward: ([cond, a, b]) => wrapLike(a, a.backend.where(cond.storage, a.storage, b.storage), a.shape),
    backward: (g, [cond, a, b]) => {
      const zero = broadcastRaw(asTensor(0, g), g.shape);
      const select = (first: Tensor, second: Tensor) =>
        wrapLike(g, g.backend.where(cond.storage, first.storage, second.storage), g.shape);
      return [null, a.requiresGrad ? select(g, zero) : null, b.requiresGrad ? select(zero, g) : null];
    },
  } satisfies Rule<void>,
  /** Over the last axis of a contiguous input; saves the int32 indices (topk's second result). */
  topk: {
    forward: ([x], g, save) => {
      const { values, indices } = x.backend.topk(x.storage, g);
      const shape = [...x.shape.slice(0, -1), g.k];
      save(wrapLike(x, indices, shape));
      return wrapLike(x, values, shape);
    },
    backward: (grad, [x], _y, g, indices) => [
      wrapLike(x, x.backend.topkBackward(grad.storage, indices.storage, g), x.shape),
    ],
  } satisfies Rule<TopkGeometry, Tensor>,
};

const apply = registerRules(rules);

/** The primitives this family records (part of the `Primitive` union, ops/primitives.ts). */
export type IndexingPrimitive = keyof typeof rules;

/**
 * Elementwise selection like torch.where: a where `condition` is non-zero, else b. The three broadcast
 * against each other; a number takes the dtype of the other operand. The gradient goes to the selected
 * operand only (the other one's values never reach the output, so inf or NaN there does no harm).
 * @example where(compare("gt", x, 0), x, 0) // relu
 */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (typeof a === "number" && typeof b === "number") {
    throw new Error("where: at least one of a and b must be a tensor");
  }
  const ta = typeof a === "number" ? asTensor(a, b as Tensor, "where") : a;
  const tb = asTensor(b, ta, "where");
  checkCompatible("where", ta, tb);
  if (condition.backend !== ta.backend) {
    throw new Error(
      `where: condition lives on backend ${condition.backend.name} but the operands on ${ta.backend.name}`,
    );
  }
  const operands = broadcastShapes(ta.shape, tb.shape);
  const shape = operands && broadcastShapes(condition.shape, operands);
  if (!shape) {
    throw new Error(
      `where: shapes ${formatShape(condition.shape)} (condition), ${formatShape(ta.shape)} and ${formatShape(tb.shape)} do not broadcast`,
    );
  }
  const [ea, eb] = [ta, tb].map((t) => expand(t, shape));
  return apply("where", [broadcastRaw(condition, shape), ea, eb], undefined);
}

/** Moves `axis` to the end: the permutation and its inverse. */
function lastAxisPermutation(ndim: number, axis: number): { forward: number[]; inverse: number[] } {
  const forward = [...Array(ndim).keys()].filter((d) => d !== axis).concat(axis);
  const inverse = new Array<number>(ndim);
  forward.forEach((d, i) => (inverse[d] = i));
  return { forward, inverse };
}

/** Host copy of int32 indices, each checked to lie in [0, size). */
function checkedIndices(op: string, index: Tensor, size: number, what: string): Int32Array {
  const values = valuesOnHost(op, index, "index");
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= size) {
      throw new Error(`${op}: index ${v} at position ${i} is out of range for ${what} of size ${size}`);
    }
  }
  return Int32Array.from(values);
}

/**
 * out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (and likewise for any dim), like torch.gather. index is
 * int32 with x's rank and index.shape[d] <= x.shape[d] for every d other than `dim`. The gradient adds up
 * over repeated indices.
 * @example gather(logits, 1, labels.unsqueeze(1)) // [N, C], [N, 1] -> [N, 1]
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkFloat("gather", x);
  const axis = normalizeAxis("gather", dim, x.ndim);
  const fits = index.ndim === x.ndim && index.shape.every((d, i) => i === axis || d <= x.shape[i]);
  if (!fits) {
    throw new Error(
      `gather: index ${formatShape(index.shape)} must have the rank of input ${formatShape(x.shape)} and no ` +
        `larger size outside dim ${dim}`,
    );
  }
  if (index.backend !== x.backend) {
    throw new Error(`gather: index lives on backend ${index.backend.name} but input on ${x.backend.name}`);
  }
  const size = x.shape[axis];
  const flatIndex = checkedIndices("gather", index, size, `dim ${dim} of input ${formatShape(x.shape)}`);
  let source = x;
  index.shape.forEach((d, i) => {
    if (i !== axis && d < x.shape[i]) source = slice(source, i, 0, d);
  });
  const { forward, inverse } = lastAxisPermutation(x.ndim, axis);
  const rows = sizeOf(index.shape) / index.shape[axis];
  const k = index.shape[axis];
  const idx = reshape(permute(tensor(flatIndex, index.shape, { backend: x.backend.name }), forward), [-1]);
  const oneHot = wrapLike(x, x.backend.oneHot(idx.storage, size, x.dtype), [rows, k, size]);
  const picked = matmul(oneHot, reshape(permute(source, forward), [rows, size, 1]));
  const permutedShape = forward.map((d) => index.shape[d]);
  return permute(reshape(picked, permutedShape), inverse);
}

/** Options of `topk` (torch.topk's `dim`, `largest` and `sorted`). */
export interface TopkOptions {
  /** Default -1 (the last dim). */
  dim?: number;
  /** The k largest (default) or smallest. */
  largest?: boolean;
  /** Results in order (largest first, or smallest first); default true. Unsorted is the same order here. */
  sorted?: boolean;
}

/**
 * The k largest (or smallest) elements along a dim, like torch.topk: values (differentiable, the gradient
 * goes to the chosen elements) and their int32 indices. Ties keep the lower index first.
 * @example const { values, indices } = topk(logits, 5) // top-5 classes per row
 */
export function topk(x: Tensor, k: number, options: TopkOptions = {}): { values: Tensor; indices: Tensor } {
  checkFloat("topk", x);
  const dim = options.dim ?? -1;
  if (x.ndim === 0) throw new Error("topk: input must have at least one dim, got a scalar");
  const axis = normalizeAxis("topk", dim, x.ndim);
  const size = x.shape[axis];
  if (!Number.isInteger(k) || k < 0 || k > size) {
    throw new Error(
      `topk: k=${k} must be an integer in [0, ${size}] (dim ${dim} of ${formatShape(x.shape)})`,
    );
  }
  const largest = options.largest ?? true;
  const { forward, inverse } = lastAxisPermutation(x.ndim, axis);
  const rowsFirst = permute(x, forward);
  const rows = size === 0 ? 0 : x.size / size;
  const { output, saved } = apply.withSaved("topk", [rowsFirst], { rows, size, k, largest });
  return { values: permute(output, inverse), indices: permute(saved, inverse) };
}
