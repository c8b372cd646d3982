// Elementwise kernels: unary maps, broadcasting binary maps, select.

import type { BinaryKind, Storage, UnaryKind, UnaryParams } from "../backend.js";
import type { Shape } from "../../tensor/shape.js";
import { broadcastStrides, sameShape, sizeOf } from "../../tensor/shape.js";
import { alloc, arr, type JsStorage } from "./storage.js";

/** Abramowitz–Stegun 7.1.26 is too coarse for float64 gradient checks; this series/continued fraction is exact to ~1e-15. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // Continued fraction for erfc at larger |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  const r = 1 - erfc;
  return x < 0 ? -r : r;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

function unaryFn(kind: UnaryKind, a: number, b: number): (x: number) => number {
  switch (kind) {
    case "neg":
      return (x) => -x;
    case "exp":
      return Math.exp;
    case "log":
      return Math.log;
    case "sqrt":
      return Math.sqrt;
    case "abs":
      return Math.abs;
    case "sign":
      return Math.sign;
    case "square":
      return (x) => x * x;
    case "reciprocal":
      return (x) => 1 / x;
    case "relu":
      return (x) => (x > 0 ? x : 0);
    case "relu6":
      return (x) => (x > 0 ? (x < 6 ? x : 6) : 0);
    case "sigmoid":
      return (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
    case "tanh":
      return Math.tanh;
    case "erf":
      return erf;
    case "gelu":
      return (x) => 0.5 * x * (1 + erf(x * SQRT1_2));
    case "geluGrad":
      return (x) => 0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case "leakyRelu":
      return (x) => (x > 0 ? x : a * x);
    case "elu":
      return (x) => (x > 0 ? x : a * Math.expm1(x));
    case "powScalar":
      return (x) => Math.pow(x, a);
    case "clamp":
      return (x) => (x < a ? a : x > b ? b : x);
    case "greaterScalar":
      return (x) => (x > a ? 1 : 0);
  }
}

export function unary(kind: UnaryKind, x: Storage, params: UnaryParams): Storage {
  const f = unaryFn(kind, params.a ?? 0, params.b ?? 0);
  const src = arr(x);
  const out = alloc(x.dtype, x.size);
  const dst = out.data;
  for (let i = 0; i < src.length; i++) dst[i] = f(src[i]);
  return out;
}

function binaryFn(kind: BinaryKind): (x: number, y: number) => number {
  switch (kind) {
    case "add":
      return (x, y) => x + y;
    case "sub":
      return (x, y) => x - y;
    case "mul":
      return (x, y) => x * y;
    case "div":
      return (x, y) => x / y;
    case "maximum":
      return (x, y) => (x >= y ? x : y);
    case "minimum":
      return (x, y) => (x <= y ? x : y);
    case "pow":
      return Math.pow;
    case "eq":
      return (x, y) => (x === y ? 1 : 0);
    case "gt":
      return (x, y) => (x > y ? 1 : 0);
    case "lt":
      return (x, y) => (x < y ? 1 : 0);
  }
}

export function binary(
  kind: BinaryKind,
  a: Storage,
  aShape: Shape,
  b: Storage,
  bShape: Shape,
  outShape: Shape,
): Storage {
  const f = binaryFn(kind);
  const out: JsStorage = alloc(a.dtype, sizeOf(outShape));
  const dst = out.data;
  const av = arr(a);
  const bv = arr(b);
  if (sameShape(aShape, bShape)) {
    for (let i = 0; i < dst.length; i++) dst[i] = f(av[i], bv[i]);
    return out;
  }
  if (bv.length === 1) {
    const s = bv[0];
    for (let i = 0; i < dst.length; i++) dst[i] = f(av[i], s);
    return out;
  }
  const as = broadcastStrides(aShape, outShape);
  const bs = broadcastStrides(bShape, outShape);
  const rank = outShape.length;
  const index = new Array<number>(rank).fill(0);
  let ai = 0;
  let bi = 0;
  for (let i = 0; i < dst.length; i++) {
    dst[i] = f(av[ai], bv[bi]);
    // Odometer increment over the output index, moving both input offsets by their strides.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      ai += as[d];
      bi += bs[d];
      if (index[d] < outShape[d]) break;
      ai -= as[d] * outShape[d];
      bi -= bs[d] * outShape[d];
      index[d] = 0;
    }
  }
  return out;
}

export function where(cond: Storage, a: Storage, b: Storage): Storage {
  const c = arr(cond);
  const av = arr(a);
  const bv = arr(b);
  const out = alloc(a.dtype, a.size);
  for (let i = 0; i < c.length; i++) out.data[i] = c[i] !== 0 ? av[i] : bv[i];
  return out;
}
