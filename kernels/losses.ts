// Fused softmax cross-entropy, forward and backward.
//
// Memory layout
// - x (logits), t (target probabilities), lp (log-probabilities), dx: rows x classes contiguous f32,
//   row r at + r*classes*4 (rows need not be 16-byte aligned: loads are unaligned v128).
// - loss, g (the loss gradient): rows contiguous f32.
// Units are rows [u0, u1); `ws` is unused.
// Numerics: lp = (x − max) − log Σ exp(x − max) with the vectorized exp of elementwise.ts (relative error
// < 2e-7) and a scalar log once per row; loss = −Σ t·lp where classes with t == 0 add nothing (so a
// masked logit of −inf gives a finite loss, as torch's label path does).

import { hmax, hsum } from "./simd";
import { vexp } from "./elementwise";

function rowMax(x: usize, classes: i32): f32 {
  let acc = f32x4.splat(-Infinity);
  let c = 0;
  for (; c + 4 <= classes; c += 4) acc = f32x4.max(acc, v128.load(x + <usize>(c * 4)));
  let m = hmax(acc);
  // f32.max propagates NaN like f32x4.max: a NaN logit makes the whole row NaN.
  for (; c < classes; c++) m = Mathf.max(m, load<f32>(x + <usize>(c * 4)));
  return m;
}

function rowSumExp(x: usize, classes: i32, max: f32): f32 {
  const vmax = f32x4.splat(max);
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= classes; c += 4) acc = f32x4.add(acc, vexp(f32x4.sub(v128.load(x + <usize>(c * 4)), vmax)));
  let s = hsum(acc);
  for (; c < classes; c++) s += f32x4.extract_lane(vexp(f32x4.splat(load<f32>(x + <usize>(c * 4)) - max)), 0);
  return s;
}

/** lp[r] = logSoftmax(x[r]) and loss[r] = −Σ t[r]·lp[r] for rows [u0, u1). */
export function softmaxCrossEntropy(
  x: usize,
  t: usize,
  loss: usize,
  lp: usize,
  classes: i32,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  const zero = f32x4.splat(0);
  for (let r = u0; r < u1; r++) {
    const off = <usize>(r * classes * 4);
    const xr = x + off;
    const tr = t + off;
    const lr = lp + off;
    const max = rowMax(xr, classes);
    const logSum = Mathf.log(rowSumExp(xr, classes, max));
    const vmax = f32x4.splat(max);
    const vlogSum = f32x4.splat(logSum);
    let acc = zero;
    let c = 0;
    for (; c + 4 <= classes; c += 4) {
      const o = <usize>(c * 4);
      const v = f32x4.sub(f32x4.sub(v128.load(xr + o), vmax), vlogSum);
      const tv = v128.load(tr + o);
      v128.store(lr + o, v);
      acc = f32x4.add(acc, v128.bitselect(zero, f32x4.mul(tv, v), f32x4.eq(tv, zero)));
    }
    let total = hsum(acc);
    for (; c < classes; c++) {
      const o = <usize>(c * 4);
      const v = load<f32>(xr + o) - max - logSum;
      const tc = load<f32>(tr + o);
      store<f32>(lr + o, v);
      if (tc != 0) total += tc * v;
    }
    store<f32>(loss + <usize>(r * 4), -total);
  }
}

/** dx[r][c] = (exp(lp[r][c]) − t[r][c]) · g[r] for rows [u0, u1). */
export function softmaxCrossEntropyBackward(
  lp: usize,
  t: usize,
  g: usize,
  dx: usize,
  classes: i32,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  for (let r = u0; r < u1; r++) {
    const off = <usize>(r * classes * 4);
    const gr = v128.load32_splat(g + <usize>(r * 4));
    let c = 0;
    for (; c + 4 <= classes; c += 4) {
      const o = off + <usize>(c * 4);
      v128.store(dx + o, f32x4.mul(f32x4.sub(vexp(v128.load(lp + o)), v128.load(t + o)), gr));
    }
    for (; c < classes; c++) {
      const o = off + <usize>(c * 4);
      const d = f32x4.mul(f32x4.sub(vexp(v128.load32_zero(lp + o)), v128.load32_zero(t + o)), gr);
      v128.store32_lane(dx + o, d, 0);
    }
  }
}
