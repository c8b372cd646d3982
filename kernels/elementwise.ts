// Elementwise kernels: unary ops and binary ops with broadcasting (gradients are written with these ops).
//
// Memory layout
// - unary: x, y are n contiguous f32; y may alias x. Units are elements [u0, u1).
// - binary: the output is a dense 4-D box [d0][d1][d2][d3]; a and b are read through element strides
//   (sa0..sa3, sb0..sb3), 0 on broadcast axes. The wrapper merges axes so d3 is the longest run; rows
//   (d0*d1*d2 of them) are the units. Inner loops use f32x4 when both inputs are contiguous or one is
//   a scalar along d3.
// - where: cond, a, b, y are n contiguous 4-byte values (cond f32, or i32 when condInt != 0).
// - cast: n contiguous values, f32 -> i32 (truncation, saturating) or i32 -> f32.
// Transcendentals: exp is a vectorized Cephes-style polynomial (|rel err| < 2e-7 on [-87, 88]), sigmoid
// and tanh are built on it (tanh uses an odd polynomial below |x| < 0.625); erf/erfc use a Maclaurin
// polynomial below 0.5 and the Numerical Recipes erfc fit above (|rel err| < 1.2e-7), gelu and its
// derivative are built on erfc so that the negative tail does not cancel; log and pow are scalar.

import { fmadd } from "./simd";
import { BinaryCode, UnaryCode } from "../src/backend/wasm/op-codes";

export function vexp(x: v128): v128 {
  const hi = f32x4.splat(88.3762626647949);
  const lo = f32x4.splat(-87.33654);
  const xc = f32x4.max(f32x4.min(x, hi), lo);
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(1.44269504)));
  let r = fmadd(n, f32x4.splat(-0.693359375), xc);
  r = fmadd(n, f32x4.splat(2.1219444e-4), r);
  let p = f32x4.splat(1.98756915e-4);
  p = fmadd(p, r, f32x4.splat(1.3981999507e-3));
  p = fmadd(p, r, f32x4.splat(8.3334519073e-3));
  p = fmadd(p, r, f32x4.splat(4.1665795894e-2));
  p = fmadd(p, r, f32x4.splat(1.6666665459e-1));
  p = fmadd(p, r, f32x4.splat(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  const e = f32x4.add(fmadd(p, r2, r), f32x4.splat(1));
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  let y = f32x4.mul(e, pow2);
  // Overflow to +inf, underflow to 0, NaN stays NaN.
  y = v128.bitselect(f32x4.splat(Infinity), y, f32x4.gt(x, f32x4.splat(88.72283)));
  y = v128.bitselect(f32x4.splat(0), y, f32x4.lt(x, f32x4.splat(-103.9)));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  // Large |x|: 1 - 2/(exp(2|x|)+1), with the sign of x.
  const one = f32x4.splat(1);
  const big = f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(vexp(f32x4.add(ax, ax)), one)));
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  // Small |x|: x + x^3 P(x^2).
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = fmadd(p, z, f32x4.splat(2.06390887954e-2));
  p = fmadd(p, z, f32x4.splat(-5.37397155531e-2));
  p = fmadd(p, z, f32x4.splat(1.33314422036e-1));
  p = fmadd(p, z, f32x4.splat(-3.33332819422e-1));
  const small = fmadd(f32x4.mul(p, z), x, x);
  const y = v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

/** exp(x) - 1 without cancellation near 0 (Taylor series below |x| < 0.35). */
function vexpm1(x: v128): v128 {
  let p = f32x4.splat(1.0 / 5040);
  p = fmadd(p, x, f32x4.splat(1.0 / 720));
  p = fmadd(p, x, f32x4.splat(1.0 / 120));
  p = fmadd(p, x, f32x4.splat(1.0 / 24));
  p = fmadd(p, x, f32x4.splat(1.0 / 6));
  p = fmadd(p, x, f32x4.splat(0.5));
  p = fmadd(p, x, f32x4.splat(1));
  const small = f32x4.mul(p, x);
  const big = f32x4.sub(vexp(x), f32x4.splat(1));
  return v128.bitselect(small, big, f32x4.lt(f32x4.abs(x), f32x4.splat(0.35)));
}

/** erf(x) for |x| < 0.5 by its Maclaurin series (error < 1e-9 there). */
function verfSmall(x: v128): v128 {
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(1.0 / 9360);
  p = fmadd(p, z, f32x4.splat(-1.0 / 1320));
  p = fmadd(p, z, f32x4.splat(1.0 / 216));
  p = fmadd(p, z, f32x4.splat(-1.0 / 42));
  p = fmadd(p, z, f32x4.splat(1.0 / 10));
  p = fmadd(p, z, f32x4.splat(-1.0 / 3));
  p = fmadd(p, z, f32x4.splat(1));
  return f32x4.mul(f32x4.mul(p, x), f32x4.splat(1.1283791670955126));
}

/** erfc(a) for a >= 0 (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7; series below 0.5). */
function verfcPos(a: v128): v128 {
  const t = f32x4.div(f32x4.splat(1), fmadd(a, f32x4.splat(0.5), f32x4.splat(1)));
  let p = f32x4.splat(0.17087277);
  p = fmadd(p, t, f32x4.splat(-0.82215223));
  p = fmadd(p, t, f32x4.splat(1.48851587));
  p = fmadd(p, t, f32x4.splat(-1.13520398));
  p = fmadd(p, t, f32x4.splat(0.27886807));
  p = fmadd(p, t, f32x4.splat(-0.18628806));
  p = fmadd(p, t, f32x4.splat(0.09678418));
  p = fmadd(p, t, f32x4.splat(0.37409196));
  p = fmadd(p, t, f32x4.splat(1.00002368));
  p = fmadd(p, t, f32x4.splat(-1.26551223));
  const big = f32x4.mul(t, vexp(f32x4.sub(p, f32x4.mul(a, a))));
  const small = f32x4.sub(f32x4.splat(1), verfSmall(a));
  return v128.bitselect(small, big, f32x4.lt(a, f32x4.splat(0.5)));
}

function verf(x: v128): v128 {
  const ax = f32x4.abs(x);
  const big = f32x4.sub(f32x4.splat(1), verfcPos(ax));
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  const y = v128.bitselect(verfSmall(x), signed, f32x4.lt(ax, f32x4.splat(0.5)));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

/** The standard normal CDF: 0.5 * erfc(-x / sqrt 2), computed from the tail on both sides. */
function vphi(x: v128): v128 {
  const a = f32x4.mul(f32x4.abs(x), f32x4.splat(0.7071067811865476));
  const half = f32x4.mul(verfcPos(a), f32x4.splat(0.5));
  return v128.bitselect(half, f32x4.sub(f32x4.splat(1), half), f32x4.lt(x, f32x4.splat(0)));
}

function powLanes(v: v128, e: f64): v128 {
  return f32x4(
    <f32>Math.pow(<f64>f32x4.extract_lane(v, 0), e),
    <f32>Math.pow(<f64>f32x4.extract_lane(v, 1), e),
    <f32>Math.pow(<f64>f32x4.extract_lane(v, 2), e),
    <f32>Math.pow(<f64>f32x4.extract_lane(v, 3), e),
  );
}

function logLanes(v: v128): v128 {
  return f32x4(
    Mathf.log(f32x4.extract_lane(v, 0)),
    Mathf.log(f32x4.extract_lane(v, 1)),
    Mathf.log(f32x4.extract_lane(v, 2)),
    Mathf.log(f32x4.extract_lane(v, 3)),
  );
}

function unaryVec(op: i32, v: v128, a: v128, b: v128, e: f64): v128 {
  switch (op) {
    case UnaryCode.neg:
      return f32x4.neg(v);
    case UnaryCode.abs:
      return f32x4.abs(v);
    case UnaryCode.relu:
      return v128.bitselect(f32x4.splat(0), v, f32x4.lt(v, f32x4.splat(0)));
    case UnaryCode.leakyRelu:
      return v128.bitselect(f32x4.mul(v, a), v, f32x4.lt(v, f32x4.splat(0)));
    case UnaryCode.sigmoid:
      return vsigmoid(v);
    case UnaryCode.tanh:
      return vtanh(v);
    case UnaryCode.exp:
      return vexp(v);
    case UnaryCode.sqrt:
      return f32x4.sqrt(v);
    case UnaryCode.square:
      return f32x4.mul(v, v);
    case UnaryCode.reciprocal:
      return f32x4.div(f32x4.splat(1), v);
    case UnaryCode.clamp:
      return f32x4.min(f32x4.max(v, a), b);
    case UnaryCode.sign: {
      // 1 or -1, and x itself for 0, -0 and NaN.
      const pos = v128.bitselect(f32x4.splat(1), v, f32x4.gt(v, f32x4.splat(0)));
      return v128.bitselect(f32x4.splat(-1), pos, f32x4.lt(v, f32x4.splat(0)));
    }
    case UnaryCode.relu6: {
      const r = v128.bitselect(f32x4.splat(0), v, f32x4.lt(v, f32x4.splat(0)));
      return v128.bitselect(f32x4.splat(6), r, f32x4.gt(r, f32x4.splat(6)));
    }
    case UnaryCode.erf:
      return verf(v);
    case UnaryCode.gelu:
      return f32x4.mul(v, vphi(v));
    case UnaryCode.geluGrad: {
      const pdf = f32x4.mul(
        vexp(f32x4.mul(f32x4.mul(v, v), f32x4.splat(-0.5))),
        f32x4.splat(0.3989422804014327),
      );
      return fmadd(v, pdf, vphi(v));
    }
    case UnaryCode.elu:
      return v128.bitselect(v, f32x4.mul(a, vexpm1(v)), f32x4.gt(v, f32x4.splat(0)));
    case UnaryCode.powScalar: {
      if (e == 2) return f32x4.mul(v, v);
      if (e == 1) return v;
      if (e == 0.5) return f32x4.sqrt(v);
      return powLanes(v, e);
    }
    case UnaryCode.greaterScalar:
      return v128.and(f32x4.gt(v, a), f32x4.splat(1));
    case UnaryCode.log:
      // Scalar per lane.
      return logLanes(v);
    default:
      // A code without a case (a new UnaryCode not written here) traps instead of writing nothing.
      unreachable();
      return v;
  }
}

/** y[i] = op(x[i]) for i in [u0, u1). */
export function unary(
  op: i32,
  x: usize,
  y: usize,
  alpha: f64,
  beta: f64,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  const a = f32x4.splat(<f32>alpha);
  const b = f32x4.splat(<f32>beta);
  let i = u0;
  const end4 = u0 + ((u1 - u0) & ~3);
  // The cheap ops (ReLU, the ReLU-gradient mask, clamp) get their own loops: through unaryVec
  // (too large to inline) they cost a call and a switch per vector, several times the op itself.
  const zero = f32x4.splat(0);
  switch (op) {
    case UnaryCode.relu:
      for (; i < end4; i += 4) {
        const o = <usize>(i * 4);
        const v = v128.load(x + o);
        v128.store(y + o, v128.bitselect(zero, v, f32x4.lt(v, zero)));
      }
      break;
    case UnaryCode.greaterScalar: {
      const one = f32x4.splat(1);
      for (; i < end4; i += 4) {
        const o = <usize>(i * 4);
        v128.store(y + o, v128.and(f32x4.gt(v128.load(x + o), a), one));
      }
      break;
    }
    case UnaryCode.clamp:
      for (; i < end4; i += 4) {
        const o = <usize>(i * 4);
        v128.store(y + o, f32x4.min(f32x4.max(v128.load(x + o), a), b));
      }
      break;
    default:
      for (; i < end4; i += 4) {
        const o = <usize>(i * 4);
        v128.store(y + o, unaryVec(op, v128.load(x + o), a, b, alpha));
      }
  }
  for (; i < u1; i++) {
    const o = <usize>(i * 4);
    store<f32>(y + o, f32x4.extract_lane(unaryVec(op, f32x4.splat(load<f32>(x + o)), a, b, alpha), 0));
  }
}

function powPairs(a: v128, b: v128): v128 {
  return f32x4(
    <f32>Math.pow(<f64>f32x4.extract_lane(a, 0), <f64>f32x4.extract_lane(b, 0)),
    <f32>Math.pow(<f64>f32x4.extract_lane(a, 1), <f64>f32x4.extract_lane(b, 1)),
    <f32>Math.pow(<f64>f32x4.extract_lane(a, 2), <f64>f32x4.extract_lane(b, 2)),
    <f32>Math.pow(<f64>f32x4.extract_lane(a, 3), <f64>f32x4.extract_lane(b, 3)),
  );
}

function binVec(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case BinaryCode.add:
      return f32x4.add(a, b);
    case BinaryCode.sub:
      return f32x4.sub(a, b);
    case BinaryCode.mul:
      return f32x4.mul(a, b);
    case BinaryCode.div:
      return f32x4.div(a, b);
    case BinaryCode.maximum:
      return f32x4.max(a, b);
    case BinaryCode.minimum:
      return f32x4.min(a, b);
    case BinaryCode.pow:
      return powPairs(a, b);
    case BinaryCode.eq:
      return v128.and(f32x4.eq(a, b), f32x4.splat(1));
    case BinaryCode.gt:
      return v128.and(f32x4.gt(a, b), f32x4.splat(1));
    case BinaryCode.lt:
      return v128.and(f32x4.lt(a, b), f32x4.splat(1));
    default:
      // As in unaryVec: an unknown code traps.
      unreachable();
      return a;
  }
}

function binScalar(op: i32, a: f32, b: f32): f32 {
  return f32x4.extract_lane(binVec(op, f32x4.splat(a), f32x4.splat(b)), 0);
}

/** One row of d3 elements: y[j] = a[j*sa] op b[j*sb]. */
function binRow(op: i32, a: usize, b: usize, y: usize, n: i32, sa: i32, sb: i32): void {
  let j = 0;
  const end4 = n & ~3;
  // add/sub/mul get their own loops (gradients, optimizer updates): through binVec (not inlined) they
  // cost a call and a switch per vector.
  if (sa == 1 && sb == 1) {
    if (op == BinaryCode.add) {
      for (; j < end4; j += 4) {
        const o = <usize>(j * 4);
        v128.store(y + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
      }
    } else if (op == BinaryCode.mul) {
      for (; j < end4; j += 4) {
        const o = <usize>(j * 4);
        v128.store(y + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
      }
    } else if (op == BinaryCode.sub) {
      for (; j < end4; j += 4) {
        const o = <usize>(j * 4);
        v128.store(y + o, f32x4.sub(v128.load(a + o), v128.load(b + o)));
      }
    } else {
      for (; j < end4; j += 4) {
        const o = <usize>(j * 4);
        v128.store(y + o, binVec(op, v128.load(a + o), v128.load(b + o)));
      }
    }
  } else if (sa == 1 && sb == 0) {
    const vb = v128.load32_splat(b);
    if (op == BinaryCode.mul) {
      for (; j < end4; j += 4) {
        const o = <usize>(j * 4);
        v128.store(y + o, f32x4.mul(v128.load(a + o), vb));
      }
    } else if (op == BinaryCode.add) {
      for (; j < end4; j += 4) {
        const o = <usize>(j * 4);
        v128.store(y + o, f32x4.add(v128.load(a + o), vb));
      }
    } else {
      for (; j < end4; j += 4) {
        const o = <usize>(j * 4);
        v128.store(y + o, binVec(op, v128.load(a + o), vb));
      }
    }
  } else if (sa == 0 && sb == 1) {
    const va = v128.load32_splat(a);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>(j * 4);
      v128.store(y + o, binVec(op, va, v128.load(b + o)));
    }
  }
  for (; j < n; j++) {
    store<f32>(
      y + <usize>(j * 4),
      binScalar(op, load<f32>(a + <usize>(j * sa * 4)), load<f32>(b + <usize>(j * sb * 4))),
    );
  }
}

/** y[i0][i1][i2][i3] = a[...] op b[...] over rows [u0, u1) of d0*d1*d2 (see layout above). */
export function binary(
  op: i32,
  a: usize,
  b: usize,
  y: usize,
  d1: i32,
  d2: i32,
  d3: i32,
  sa0: i32,
  sa1: i32,
  sa2: i32,
  sa3: i32,
  sb0: i32,
  sb1: i32,
  sb2: i32,
  sb3: i32,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  for (let r = u0; r < u1; r++) {
    const i2 = r % d2;
    const t = r / d2;
    const i1 = t % d1;
    const i0 = t / d1;
    const pa = a + <usize>((i0 * sa0 + i1 * sa1 + i2 * sa2) * 4);
    const pb = b + <usize>((i0 * sb0 + i1 * sb1 + i2 * sb2) * 4);
    binRow(op, pa, pb, y + <usize>(r * d3 * 4), d3, sa3, sb3);
  }
}

/** y[i] = cond[i] != 0 ? a[i] : b[i] for i in [u0, u1); cond is f32, or i32 when condInt != 0. */
export function where(
  cond: usize,
  a: usize,
  b: usize,
  y: usize,
  condInt: i32,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  let i = u0;
  for (; i + 4 <= u1; i += 4) {
    const o = <usize>(i * 4);
    const c = v128.load(cond + o);
    const m = condInt != 0 ? v128.not(i32x4.eq(c, i32x4.splat(0))) : f32x4.ne(c, f32x4.splat(0));
    v128.store(y + o, v128.bitselect(v128.load(a + o), v128.load(b + o), m));
  }
  for (; i < u1; i++) {
    const o = <usize>(i * 4);
    const take = condInt != 0 ? load<i32>(cond + o) != 0 : load<f32>(cond + o) != 0;
    store<u32>(y + o, take ? load<u32>(a + o) : load<u32>(b + o));
  }
}

/** y[i] = trunc(x[i]) as i32 (toInt != 0, saturating, NaN -> 0) or x[i] as f32, for i in [u0, u1). */
export function cast(x: usize, y: usize, toInt: i32, _ws: usize, u0: i32, u1: i32): void {
  let i = u0;
  for (; i + 4 <= u1; i += 4) {
    const o = <usize>(i * 4);
    const v = v128.load(x + o);
    v128.store(y + o, toInt != 0 ? i32x4.trunc_sat_f32x4_s(v) : f32x4.convert_i32x4_s(v));
  }
  for (; i < u1; i++) {
    const o = <usize>(i * 4);
    if (toInt != 0)
      store<i32>(y + o, i32x4.extract_lane(i32x4.trunc_sat_f32x4_s(v128.load32_splat(x + o)), 0));
    else store<f32>(y + o, <f32>load<i32>(x + o));
  }
}
