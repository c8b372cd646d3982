// Elementwise kernels of the webgpu backend: unary maps, broadcasting binary maps, select, fill and cast.
// Float math runs in f32; int32 tensors go through f32 for unary maps and stay i32 for binary arithmetic.

import type { BinaryKind, Storage, UnaryKind, UnaryParams } from "../backend.js";
import type { DType } from "../../tensor/dtype.js";
import type { Shape } from "../../tensor/shape.js";
import { broadcastStrides, sizeOf } from "../../tensor/shape.js";
import {
  buf,
  elementKernel,
  IS_NAN_WGSL,
  launchElements,
  out,
  wgslType,
  type GpuContext,
} from "./context.js";

/** erf to ~1.5e-7 (Abramowitz–Stegun 7.1.26), the precision of f32; pow with JavaScript's sign rules. */
const MATH_WGSL = /* wgsl */ `
fn erf_(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-ax * ax);
  return select(y, -y, x < 0.0);
}
fn tanh_(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  let t = (1.0 - e) / (1.0 + e);
  return select(t, -t, x < 0.0);
}
fn pow_(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (x == 0.0) { return select(0.0, infinity(), y < 0.0); }
  if (x > 0.0) { return exp2(y * log2(x)); }
  if (y != floor(y)) { return nan(); }
  let r = exp2(y * log2(-x));
  let odd = (i32(abs(y)) % 2) == 1 && abs(y) < 16777216.0;
  return select(r, -r, odd);
}
${IS_NAN_WGSL}
`;

function unaryExpr(kind: UnaryKind): string {
  switch (kind) {
    case "neg":
      return "-x";
    case "exp":
      return "exp(x)";
    case "log":
      return "log(x)";
    case "sqrt":
      return "sqrt(x)";
    case "abs":
      return "abs(x)";
    case "sign":
      return "select(sign(x), x, isNan(x))";
    case "square":
      return "x * x";
    case "reciprocal":
      return "1.0 / x";
    case "relu":
      return "select(0.0, x, x > 0.0)";
    case "relu6":
      return "select(0.0, min(x, 6.0), x > 0.0)";
    case "sigmoid":
      return "select(exp(x) / (1.0 + exp(x)), 1.0 / (1.0 + exp(-x)), x >= 0.0)";
    case "tanh":
      return "tanh_(x)";
    case "erf":
      return "erf_(x)";
    case "gelu":
      return "0.5 * x * (1.0 + erf_(x * 0.70710678118654752))";
    case "geluGrad":
      return "0.5 * (1.0 + erf_(x * 0.70710678118654752)) + x * 0.3989422804014327 * exp(-0.5 * x * x)";
    case "leakyRelu":
      return "select(a * x, x, x > 0.0)";
    case "elu":
      return "select(a * (exp(x) - 1.0), x, x > 0.0)";
    case "powScalar":
      return "pow_(x, a)";
    case "clamp":
      return "select(select(x, b, x > b), a, x < a)";
    case "greaterScalar":
      return "select(0.0, 1.0, x > a)";
  }
}

export function unary(ctx: GpuContext, kind: UnaryKind, x: Storage, params: UnaryParams): Storage {
  const t = wgslType(x.dtype);
  const y = out(ctx, x.dtype, x.size);
  const code = () =>
    elementKernel(
      [`read> xs: array<${t}>`, `read_write> ys: array<${t}>`],
      `let x = f32(xs[i]); let a = pf(1u); let b = pf(2u); ys[i] = ${t}(${unaryExpr(kind)});`,
      MATH_WGSL,
    );
  launchElements(ctx, `unary-${kind}-${t}`, code, [buf(ctx, x), buf(ctx, y)], x.size, [
    { f: params.a ?? 0 },
    { f: params.b ?? 0 },
  ]);
  return y;
}

function binaryExpr(kind: BinaryKind, t: "f32" | "i32"): string {
  const one = `${t}(1)`;
  const zero = `${t}(0)`;
  switch (kind) {
    case "add":
      return "x + y";
    case "sub":
      return "x - y";
    case "mul":
      return "x * y";
    case "div":
      return t === "f32" ? "x / y" : "i32(trunc(f32(x) / f32(y)))";
    case "maximum":
      return t === "f32" ? "select(y, x, x >= y || isNan(x))" : "max(x, y)";
    case "minimum":
      return t === "f32" ? "select(y, x, x <= y || isNan(x))" : "min(x, y)";
    case "pow":
      return `${t}(pow_(f32(x), f32(y)))`;
    case "eq":
      return `select(${zero}, ${one}, x == y)`;
    case "gt":
      return `select(${zero}, ${one}, x > y)`;
    case "lt":
      return `select(${zero}, ${one}, x < y)`;
  }
}

/** Most dims of a broadcast the kernel takes (shapes are collapsed to this many before launching). */
const MAX_RANK = 8;

/** Merges adjacent output dims whose strides in a and b are both contiguous with each other. */
function collapse(shape: Shape, as: number[], bs: number[]): { shape: number[]; as: number[]; bs: number[] } {
  const s: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && a[last] === as[d] * shape[d] && b[last] === bs[d] * shape[d]) {
      s[last] *= shape[d];
      a[last] = as[d];
      b[last] = bs[d];
    } else {
      s.push(shape[d]);
      a.push(as[d]);
      b.push(bs[d]);
    }
  }
  return { shape: s, as: a, bs: b };
}

export function binary(
  ctx: GpuContext,
  kind: BinaryKind,
  a: Storage,
  aShape: Shape,
  b: Storage,
  bShape: Shape,
  outShape: Shape,
): Storage {
  const t = wgslType(a.dtype);
  const n = sizeOf(outShape);
  const y = out(ctx, a.dtype, n);
  const c = collapse(outShape, broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape));
  if (c.shape.length > MAX_RANK)
    throw new Error(`webgpu binary: broadcast of rank ${c.shape.length} > ${MAX_RANK}`);
  const code = () =>
    elementKernel(
      [`read> as_: array<${t}>`, `read> bs_: array<${t}>`, `read_write> ys: array<${t}>`],
      `let rank = pu(1u);
  var rest = i; var ai = 0u; var bi = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let extent = pu(2u + u32(d));
    let k = rest % extent; rest = rest / extent;
    ai += k * pu(2u + ${MAX_RANK}u + u32(d)); bi += k * pu(2u + ${2 * MAX_RANK}u + u32(d));
  }
  let x = as_[ai]; let y = bs_[bi];
  ys[i] = ${binaryExpr(kind, t)};`,
      MATH_WGSL,
    );
  const pad = (v: number[]) => [...v, ...new Array<number>(MAX_RANK - v.length).fill(0)];
  launchElements(ctx, `binary-${kind}-${t}`, code, [buf(ctx, a), buf(ctx, b), buf(ctx, y)], n, [
    c.shape.length,
    ...pad(c.shape),
    ...pad(c.as),
    ...pad(c.bs),
  ]);
  return y;
}

export function where(ctx: GpuContext, cond: Storage, a: Storage, b: Storage): Storage {
  const [tc, t] = [wgslType(cond.dtype), wgslType(a.dtype)];
  const y = out(ctx, a.dtype, a.size);
  const code = () =>
    elementKernel(
      [
        `read> cs: array<${tc}>`,
        `read> as_: array<${t}>`,
        `read> bs_: array<${t}>`,
        `read_write> ys: array<${t}>`,
      ],
      `ys[i] = select(bs_[i], as_[i], cs[i] != ${tc}(0));`,
    );
  launchElements(
    ctx,
    `where-${tc}-${t}`,
    code,
    [buf(ctx, cond), buf(ctx, a), buf(ctx, b), buf(ctx, y)],
    a.size,
  );
  return y;
}

export function full(ctx: GpuContext, dtype: DType, size: number, value: number): Storage {
  const t = wgslType(dtype);
  const y = out(ctx, dtype, size);
  const code = () =>
    elementKernel([`read_write> ys: array<${t}>`], `ys[i] = ${t === "f32" ? "pf(1u)" : "pi(1u)"};`);
  launchElements(ctx, `full-${t}`, code, [buf(ctx, y)], size, [
    t === "f32" ? { f: value } : { i: Math.trunc(value) | 0 },
  ]);
  return y;
}

export function cast(ctx: GpuContext, x: Storage, dtype: DType): Storage {
  const [from, to] = [wgslType(x.dtype), wgslType(dtype)];
  const y = out(ctx, dtype, x.size);
  if (from === to) {
    ctx.rt.copy(buf(ctx, x), buf(ctx, y), x.size * 4);
    return y;
  }
  const convert = to === "i32" ? "i32(trunc(xs[i]))" : "f32(xs[i])";
  const code = () =>
    elementKernel([`read> xs: array<${from}>`, `read_write> ys: array<${to}>`], `ys[i] = ${convert};`);
  launchElements(ctx, `cast-${from}-${to}`, code, [buf(ctx, x), buf(ctx, y)], x.size);
  return y;
}

export function oneHot(ctx: GpuContext, labels: Storage, classes: number, dtype: DType): Storage {
  const t = wgslType(dtype);
  const y = out(ctx, dtype, labels.size * classes);
  const code = () =>
    elementKernel(
      [`read> ls: array<i32>`, `read_write> ys: array<${t}>`],
      `let c = pu(1u); ys[i] = select(${t}(0), ${t}(1), u32(ls[i / c]) == i % c);`,
    );
  launchElements(ctx, `onehot-${t}`, code, [buf(ctx, labels), buf(ctx, y)], y.size, [classes]);
  return y;
}
