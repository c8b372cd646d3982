// Elementwise arithmetic with broadcasting and the unary maths functions, forward and backward together.

import type { BinaryKind, UnaryKind, UnaryParams } from "../backend/backend.js";
import { registerRules, type Rule } from "../autograd/primitive.js";
import { Tensor, type TensorLike } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";
import { broadcastShapes, formatShape } from "../tensor/shape.js";
import { asTensor, checkCompatible, checkFloat, wrapLike } from "./util.js";
import { sumTo } from "./reduce.js";

function binaryForward(kind: BinaryKind) {
  return ([a, b]: readonly Tensor[]): Tensor => {
    const outShape = broadcastShapes(a.shape, b.shape)!;
    return wrapLike(a, a.backend.binary(kind, a.storage, a.shape, b.storage, b.shape, outShape), outShape);
  };
}

function unaryForward(kind: UnaryKind) {
  return ([x]: readonly Tensor[], params: UnaryParams): Tensor =>
    wrapLike(x, x.backend.unary(kind, x.storage, params), x.shape);
}

const rules = {
  add: {
    forward: binaryForward("add"),
    backward: (g, [a, b]) => [sumTo(g, a.shape), sumTo(g, b.shape)],
  } satisfies Rule<void>,
  sub: {
    forward: binaryForward("sub"),
    backward: (g, [a, b]) => [sumTo(g, a.shape), sumTo(neg(g), b.shape)],
  } satisfies Rule<void>,
  mul: {
    forward: binaryForward("mul"),
    backward: (g, [a, b]) => [
      a.requiresGrad ? sumTo(mul(g, b), a.shape) : null,
      b.requiresGrad ? sumTo(mul(g, a), b.shape) : null,
    ],
  } satisfies Rule<void>,
  div: {
    forward: binaryForward("div"),
    backward: (g, [a, b], y) => [
      a.requiresGrad ? sumTo(div(g, b), a.shape) : null,
      b.requiresGrad ? sumTo(neg(div(mul(g, y), b)), b.shape) : null,
    ],
  } satisfies Rule<void>,
  // Ties split the gradient in half between a and b, as torch.maximum does (so maximum(x, 0) at x = 0
  // gives 1/2, which makes the composite binaryCrossEntropyWithLogits exact there).
  maximum: {
    forward: binaryForward("maximum"),
    backward: (g, [a, b]) => {
      const aShare = winnerShare("gt", a, b);
      return [sumTo(mul(g, aShare), a.shape), sumTo(mul(g, sub(1, aShare)), b.shape)];
    },
  } satisfies Rule<void>,
  minimum: {
    forward: binaryForward("minimum"),
    backward: (g, [a, b]) => {
      const aShare = winnerShare("lt", a, b);
      return [sumTo(mul(g, aShare), a.shape), sumTo(mul(g, sub(1, aShare)), b.shape)];
    },
  } satisfies Rule<void>,
  neg: { forward: unaryForward("neg"), backward: (g) => [neg(g)] } satisfies Rule<UnaryParams>,
  exp: { forward: unaryForward("exp"), backward: (g, _x, y) => [mul(g, y)] } satisfies Rule<UnaryParams>,
  log: { forward: unaryForward("log"), backward: (g, [x]) => [div(g, x)] } satisfies Rule<UnaryParams>,
  sqrt: {
    forward: unaryForward("sqrt"),
    backward: (g, _x, y) => [div(g, mul(y, 2))],
  } satisfies Rule<UnaryParams>,
  abs: {
    forward: unaryForward("abs"),
    backward: (g, [x]) => [mul(g, unaryRaw("sign", x))],
  } satisfies Rule<UnaryParams>,
  square: {
    forward: unaryForward("square"),
    backward: (g, [x]) => [mul(g, mul(x, 2))],
  } satisfies Rule<UnaryParams>,
  powScalar: {
    forward: unaryForward("powScalar"),
    // x**0 is constant; the general formula would give 0·x**-1 = NaN at x = 0.
    backward: (g, [x], _y, p) => [p.a === 0 ? mul(g, 0) : mul(g, mul(pow(x, p.a! - 1), p.a!))],
  } satisfies Rule<UnaryParams>,
  erf: {
    forward: unaryForward("erf"),
    backward: (g, [x]) => [mul(g, mul(exp(neg(x.square())), 2 / Math.sqrt(Math.PI)))],
  } satisfies Rule<UnaryParams>,
  clamp: {
    forward: unaryForward("clamp"),
    backward: (g, [x], _y, p) => {
      // Inclusive at both bounds, as torch's clamp_backward.
      const inside = mul(sub(1, compare("lt", x, p.a!)), sub(1, compare("gt", x, p.b!)));
      return [mul(g, inside)];
    },
  } satisfies Rule<UnaryParams>,
  // compare() is a raw kernel call; this records it, for graphs that must export again (an imported ONNX
  // Where). Its gradient is zero, as a boolean output has none.
  compare: {
    forward: ([a, b], kind) => compare(kind, a, b),
    backward: () => [null, null],
  } satisfies Rule<"gt" | "lt" | "eq">,
};

const apply = registerRules(rules);

/** The primitives this family records (part of the `Primitive` union, ops/primitives.ts). */
export type ElementwisePrimitive = keyof typeof rules;

/** 1 where a strictly wins the comparison, 1/2 on ties, 0 elsewhere (broadcast to the output shape). */
function winnerShare(kind: "gt" | "lt", a: Tensor, b: Tensor): Tensor {
  return add(compare(kind, a, b), mul(compare("eq", a, b), 0.5));
}

/** Applies a unary kernel with no gradient (masks, derivatives used inside backward rules). */
export function unaryRaw(kind: UnaryKind, x: Tensor, params: UnaryParams = {}): Tensor {
  return wrapLike(x, x.backend.unary(kind, x.storage, params), x.shape);
}

function binaryOp(
  name: "add" | "sub" | "mul" | "div" | "maximum" | "minimum",
  a: TensorLike,
  b: TensorLike,
): Tensor {
  const ta = typeof a === "number" ? asTensor(a, b as Tensor, name) : a;
  const tb = asTensor(b, ta, name);
  checkCompatible(name, ta, tb);
  // Integer division would truncate silently; torch's true division gives floats.
  if (name === "div") checkFloat(name, ta);
  if (!broadcastShapes(ta.shape, tb.shape)) {
    throw new Error(`${name}: shapes ${formatShape(ta.shape)} and ${formatShape(tb.shape)} do not broadcast`);
  }
  return apply(name, [ta, tb], undefined);
}

/** a + b with broadcasting. */
export const add = (a: TensorLike, b: TensorLike): Tensor => binaryOp("add", a, b);
/** a - b with broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryOp("sub", a, b);
/** a * b with broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binaryOp("mul", a, b);
/** a / b with broadcasting. */
export const div = (a: TensorLike, b: TensorLike): Tensor => binaryOp("div", a, b);
/** Elementwise maximum. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binaryOp("maximum", a, b);
/** Elementwise minimum. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binaryOp("minimum", a, b);

/** `-x` (`torch.neg`). */
export const neg = (x: Tensor): Tensor => apply("neg", [x], {});
/** A float-only unary op: on int32 storage exp/log/sqrt/pow would truncate their results silently. */
function floatUnary(name: "exp" | "log" | "sqrt" | "powScalar", x: Tensor, params: UnaryParams): Tensor {
  checkFloat(name === "powScalar" ? "pow" : name, x);
  return apply(name, [x], params);
}

/** `e^x` elementwise (`torch.exp`). */
export const exp = (x: Tensor): Tensor => floatUnary("exp", x, {});
/** Natural logarithm elementwise (`torch.log`); float tensors only. */
export const log = (x: Tensor): Tensor => floatUnary("log", x, {});
/** Square root elementwise (`torch.sqrt`); float tensors only. */
export const sqrt = (x: Tensor): Tensor => floatUnary("sqrt", x, {});
/** |x| elementwise (`torch.abs`). */
export const abs = (x: Tensor): Tensor => apply("abs", [x], {});
/** x² elementwise (`torch.square`). */
export const square = (x: Tensor): Tensor => apply("square", [x], {});
/** x ** exponent for a scalar exponent. */
export const pow = (x: Tensor, exponent: number): Tensor => floatUnary("powScalar", x, { a: exponent });
/** The Gauss error function erf(x) = 2/√π ∫₀ˣ exp(-t²) dt (torch.erf). */
export function erf(x: Tensor): Tensor {
  checkFloat("erf", x);
  return apply("erf", [x], {});
}

/**
 * Bounds of `clamp` (torch.clamp's `min` and `max`): numbers or tensors broadcast against x; null or absent
 * for no bound.
 */
export interface ClampOptions {
  min?: number | Tensor | null;
  max?: number | Tensor | null;
}

/**
 * min(max(x, min), max) like torch.clamp; either bound may be omitted (null) or be a tensor that broadcasts
 * against x. The gradient reaches x where it lies within the bounds (inclusive), and a tensor bound where it
 * is the one in effect. Also callable as clamp(x, { min, max }).
 * @example clamp(x, 0, 1); clamp(x, { min: 0 }); clamp(x, lower, upper)
 */
export function clamp(
  x: Tensor,
  min?: number | Tensor | null | ClampOptions,
  max?: number | Tensor | null,
): Tensor {
  const bounds: ClampOptions =
    min !== null && typeof min === "object" && !(min instanceof Tensor) ? min : { min, max };
  const lo = bounds.min ?? null;
  const hi = bounds.max ?? null;
  if (lo === null && hi === null) throw new Error("clamp: at least one of min and max must be given");
  if (typeof lo === "number" && typeof hi === "number" && lo > hi)
    throw new Error(`clamp: min ${lo} is greater than max ${hi}`);
  for (const [name, b] of [
    ["min", lo],
    ["max", hi],
  ] as const) {
    if (typeof b === "number" && Number.isNaN(b)) throw new Error(`clamp: ${name} is NaN`);
  }
  if (lo instanceof Tensor || hi instanceof Tensor) {
    let y = x;
    if (lo !== null) y = maximum(y, lo);
    if (hi !== null) y = minimum(y, hi);
    return y;
  }
  return apply("clamp", [x], { a: lo ?? -Infinity, b: hi ?? Infinity });
}

/** Elementwise comparison giving 0/1 in the dtype of `a`; not differentiable. */
export function compare(kind: "eq" | "gt" | "lt", a: TensorLike, b: TensorLike): Tensor {
  const ta = typeof a === "number" ? asTensor(a, b as Tensor, kind) : a;
  const tb = asTensor(b, ta, kind);
  const outShape = broadcastShapes(ta.shape, tb.shape);
  if (!outShape)
    throw new Error(`${kind}: shapes ${formatShape(ta.shape)} and ${formatShape(tb.shape)} do not broadcast`);
  return wrapLike(
    ta,
    ta.backend.binary(kind, ta.storage, ta.shape, tb.storage, tb.shape, outShape),
    outShape,
  );
}

/**
 * compare() recorded as a graph node (gradient zero), so that exportOnnx writes it back as a comparison;
 * the ONNX importer uses it for Greater/Less/Equal.
 */
export function recordedCompare(kind: "eq" | "gt" | "lt", a: Tensor, b: Tensor): Tensor {
  return apply("compare", [a, b], kind);
}

/** Converts dtype; not differentiable (the result is a new leaf). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype === x.dtype) return x;
  return wrapLike(x, x.backend.cast(x.storage, dtype), x.shape);
}
