// Reductions: sum, mean, max, min over any set of dims (keepdim like torch), argmax, and sumTo, which undoes
// broadcasting in backward rules.

import { registerRules, type Rule } from "../autograd/primitive.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape, normalizeAxes, normalizeAxis, sizeOf, type Shape } from "../tensor/shape.js";
import { checkFloat, wrapLike } from "./util.js";
import { compare, div, mul } from "./elementwise.js";
import { expand, reshape } from "./movement.js";

interface ReduceAttrs {
  axes: number[];
}

function keptShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Gradient of a reduction: the output gradient spread back over the reduced axes. */
function spread(g: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  return expand(reshape(g, keptShape(x.shape, axes)), x.shape);
}

function extremumBackward(g: Tensor, x: Tensor, y: Tensor, axes: readonly number[]): Tensor {
  // Ties share the gradient equally, which is what torch.amax does.
  const mask = compare("eq", x, reshape(y, keptShape(x.shape, axes)));
  const count = reduceRaw("sum", mask, axes);
  return mul(spread(div(g, count), x, axes), mask);
}

function reduceRaw(kind: "sum" | "max" | "min", x: Tensor, axes: readonly number[]): Tensor {
  const outShape = x.shape.filter((_, i) => !axes.includes(i));
  return wrapLike(x, x.backend.reduce(kind, x.storage, x.shape, axes), outShape);
}

const rules = {
  sum: {
    forward: ([x], { axes }) => reduceRaw("sum", x, axes),
    backward: (g, [x], _y, { axes }) => [spread(g, x, axes)],
  } satisfies Rule<ReduceAttrs>,
  max: {
    forward: ([x], { axes }) => reduceRaw("max", x, axes),
    backward: (g, [x], y, { axes }) => [extremumBackward(g, x, y, axes)],
  } satisfies Rule<ReduceAttrs>,
  min: {
    forward: ([x], { axes }) => reduceRaw("min", x, axes),
    backward: (g, [x], y, { axes }) => [extremumBackward(g, x, y, axes)],
  } satisfies Rule<ReduceAttrs>,
};

const apply = registerRules(rules);

/** The primitives this family records (part of the `Primitive` union, ops/primitives.ts). */
export type ReducePrimitive = keyof typeof rules;

function reduceOp(
  name: "sum" | "max" | "min",
  x: Tensor,
  dim: number | readonly number[] | undefined,
  keepdim: boolean,
) {
  const axes = normalizeAxes(name, dim, x.ndim);
  if (name !== "sum" && axes.some((a) => x.shape[a] === 0)) {
    throw new Error(`${name}: cannot reduce an empty dimension of shape ${formatShape(x.shape)}`);
  }
  const y = apply(name, [x], { axes });
  return keepdim ? reshape(y, keptShape(x.shape, axes)) : y;
}

/** Sum over `dim` (all dims when omitted). */
export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return reduceOp("sum", x, dim, keepdim);
}

/** Mean over `dim` (all dims when omitted). */
export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  checkFloat("mean", x);
  const axes = normalizeAxes("mean", dim, x.ndim);
  const count = sizeOf(axes.map((a) => x.shape[a]));
  return div(sum(x, axes, keepdim), count);
}

/** Maximum value over `dim` (all dims when omitted); use argmax for the index. */
export function max(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return reduceOp("max", x, dim, keepdim);
}

/**
 * Minimum over `dim` (one or several; all when omitted), values only (`torch.amin`); the gradient goes to the
 * minima, split between ties.
 */
export function min(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return reduceOp("min", x, dim, keepdim);
}

/** Variance over `dim`; unbiased (n-1) by default like torch.var. */
export function variance(
  x: Tensor,
  dim?: number | readonly number[],
  options: { unbiased?: boolean; keepdim?: boolean } = {},
) {
  const axes = normalizeAxes("variance", dim, x.ndim);
  const n = sizeOf(axes.map((a) => x.shape[a]));
  const centered = x.sub(mean(x, axes, true));
  const ss = sum(centered.square(), axes, options.keepdim ?? false);
  return div(ss, options.unbiased === false ? n : n - 1);
}

/** Index (int32) of the maximum along `dim`; not differentiable. */
export function argmax(x: Tensor, dim: number, keepdim = false): Tensor {
  const axis = normalizeAxis("argmax", dim, x.ndim);
  if (x.shape[axis] === 0) throw new Error(`argmax: dim ${dim} of shape ${formatShape(x.shape)} is empty`);
  const outShape = x.shape.filter((_, i) => i !== axis);
  const y = wrapLike(x, x.backend.argmax(x.storage, x.shape, axis), outShape);
  return keepdim ? reshape(y, keptShape(x.shape, [axis])) : y;
}

/** Sums `g` down to `shape` over the axes that broadcasting expanded (used by backward rules). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const reduced = axes.length > 0 ? sum(g, axes) : g;
  return reshape(reduced, shape);
}
