// Batch normalisation, fused: per-channel statistics, the normalising forward and the whole backward.
//
// Memory layout
// - x, y, gy, dx: x viewed as [N][C][S] (S = product of the dims after C, 1 for [N, C]): N*C strips of S
//   contiguous floats, strip (n, c) at ((n*C + c)*S)*4.
// - mean, variance, invStd, weight, bias, dWeight, dBias: C floats. weight == 0 means "no weight" (1) and
//   bias == 0 "no bias" (0).
// Every function works on channels [c0, c1) so that threads split a call by channel ranges; `ws` is
// unused.
//
// Numerics: sums run in f32x4 lanes over blocks of at most BLOCK floats of a strip, and each block's
// partial goes into an f64 total, so the rounding error is bounded by the block length and does not grow
// with N*S (800k values per channel in ResNet's first layer at batch 64). The variance is two-pass (the
// mean, then the squared deviations from it), and the deviations' own sum corrects for the rounding of the
// mean to f32 (Σd² − (Σd)²/M), so data with a large mean and a small spread keeps its variance.
// The statistics and the backward's sums visit one channel at a time (both passes of the statistics run
// back to back over a channel's data, while it is still in cache); the forward and the backward's dx pass
// run in memory order.

import { fmadd, hsum64 } from "./simd";

/** Floats summed in f32 lanes before the partial moves to f64 (64 additions per lane). */
const BLOCK: i32 = 512;

// Per-instance (so per-thread) accumulators of the strip helpers, which have two sums to return.
let sumA: f64 = 0;
let sumB: f64 = 0;

function at(p: usize, s: i32): usize {
  return p + ((<usize>s) << 2);
}

/** sumA += Σ p[0..S). */
function addStripSum(p: usize, S: i32): void {
  for (let s0 = 0; s0 < S; s0 += BLOCK) {
    const s1 = min<i32>(s0 + BLOCK, S);
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let s = s0;
    for (; s + 8 <= s1; s += 8) {
      a0 = f32x4.add(a0, v128.load(at(p, s)));
      a1 = f32x4.add(a1, v128.load(at(p, s), 16));
    }
    if (s + 4 <= s1) {
      a0 = f32x4.add(a0, v128.load(at(p, s)));
      s += 4;
    }
    let t = hsum64(f32x4.add(a0, a1));
    for (; s < s1; s++) t += <f64>load<f32>(at(p, s));
    sumA += t;
  }
}

/** sumA += Σ d, sumB += Σ d² with d = p[s] − m. */
function addDeviationSums(p: usize, S: i32, m: f32): void {
  const vm = f32x4.splat(m);
  for (let s0 = 0; s0 < S; s0 += BLOCK) {
    const s1 = min<i32>(s0 + BLOCK, S);
    let d0 = f32x4.splat(0);
    let d1 = f32x4.splat(0);
    let q0 = f32x4.splat(0);
    let q1 = f32x4.splat(0);
    let s = s0;
    for (; s + 8 <= s1; s += 8) {
      const e0 = f32x4.sub(v128.load(at(p, s)), vm);
      const e1 = f32x4.sub(v128.load(at(p, s), 16), vm);
      d0 = f32x4.add(d0, e0);
      d1 = f32x4.add(d1, e1);
      q0 = fmadd(e0, e0, q0);
      q1 = fmadd(e1, e1, q1);
    }
    if (s + 4 <= s1) {
      const e0 = f32x4.sub(v128.load(at(p, s)), vm);
      d0 = f32x4.add(d0, e0);
      q0 = fmadd(e0, e0, q0);
      s += 4;
    }
    let td = hsum64(f32x4.add(d0, d1));
    let tq = hsum64(f32x4.add(q0, q1));
    for (; s < s1; s++) {
      const e = <f64>(load<f32>(at(p, s)) - m);
      td += e;
      tq += e * e;
    }
    sumA += td;
    sumB += tq;
  }
}

/** sumA += Σ g, sumB += Σ g·(x − m) over one strip of gy and x. */
function addGradSums(g: usize, x: usize, S: i32, m: f32): void {
  const vm = f32x4.splat(m);
  for (let s0 = 0; s0 < S; s0 += BLOCK) {
    const s1 = min<i32>(s0 + BLOCK, S);
    let g0 = f32x4.splat(0);
    let g1 = f32x4.splat(0);
    let p0 = f32x4.splat(0);
    let p1 = f32x4.splat(0);
    let s = s0;
    for (; s + 8 <= s1; s += 8) {
      const a0 = v128.load(at(g, s));
      const a1 = v128.load(at(g, s), 16);
      g0 = f32x4.add(g0, a0);
      g1 = f32x4.add(g1, a1);
      p0 = fmadd(a0, f32x4.sub(v128.load(at(x, s)), vm), p0);
      p1 = fmadd(a1, f32x4.sub(v128.load(at(x, s), 16), vm), p1);
    }
    if (s + 4 <= s1) {
      const a0 = v128.load(at(g, s));
      g0 = f32x4.add(g0, a0);
      p0 = fmadd(a0, f32x4.sub(v128.load(at(x, s)), vm), p0);
      s += 4;
    }
    let tg = hsum64(f32x4.add(g0, g1));
    let tp = hsum64(f32x4.add(p0, p1));
    for (; s < s1; s++) {
      const gv = <f64>load<f32>(at(g, s));
      tg += gv;
      tp += gv * <f64>(load<f32>(at(x, s)) - m);
    }
    sumA += tg;
    sumB += tp;
  }
}

function channelWeight(weight: usize, c: i32): f64 {
  return weight == 0 ? 1 : <f64>load<f32>(at(weight, c));
}

/** mean[c] and the biased variance[c] of every channel in [c0, c1). */
export function batchNormStats(
  x: usize,
  mean: usize,
  variance: usize,
  N: i32,
  C: i32,
  S: i32,
  _ws: usize,
  c0: i32,
  c1: i32,
): void {
  const M = <f64>N * <f64>S;
  const sampleStride = <usize>C * <usize>S * 4;
  const first = S == 1 ? statsColumns(x, mean, variance, N, C, c0, c1) : c0;
  for (let c = first; c < c1; c++) {
    const base = x + <usize>c * <usize>S * 4;
    sumA = 0;
    for (let n = 0; n < N; n++) addStripSum(base + <usize>n * sampleStride, S);
    const m = <f32>(sumA / M);
    sumA = 0;
    sumB = 0;
    for (let n = 0; n < N; n++) addDeviationSums(base + <usize>n * sampleStride, S, m);
    const shift = sumA / M;
    store<f32>(at(mean, c), <f32>(<f64>m + shift));
    store<f32>(at(variance, c), <f32>max<f64>(sumB / M - shift * shift, 0));
  }
}

/** y = (x − mean[c])·invStd[c]·weight[c] + bias[c], in memory order over the channels [c0, c1). */
export function batchNormForward(
  x: usize,
  mean: usize,
  invStd: usize,
  weight: usize,
  bias: usize,
  y: usize,
  N: i32,
  C: i32,
  S: i32,
  _ws: usize,
  c0: i32,
  c1: i32,
): void {
  for (let n = 0; n < N; n++) {
    const row = <usize>n * <usize>C;
    const first = S == 1 ? forwardColumns(x, mean, invStd, weight, bias, y, row, c0, c1) : c0;
    for (let c = first; c < c1; c++) {
      const offset = (row + <usize>c) * <usize>S * 4;
      const xp = x + offset;
      const yp = y + offset;
      const m = load<f32>(at(mean, c));
      const k = <f32>(<f64>load<f32>(at(invStd, c)) * channelWeight(weight, c));
      const b: f32 = bias == 0 ? 0 : load<f32>(at(bias, c));
      const vm = f32x4.splat(m);
      const vk = f32x4.splat(k);
      const vb = f32x4.splat(b);
      let s = 0;
      for (; s + 8 <= S; s += 8) {
        v128.store(at(yp, s), fmadd(f32x4.sub(v128.load(at(xp, s)), vm), vk, vb));
        v128.store(at(yp, s), fmadd(f32x4.sub(v128.load(at(xp, s), 16), vm), vk, vb), 16);
      }
      if (s + 4 <= S) {
        v128.store(at(yp, s), fmadd(f32x4.sub(v128.load(at(xp, s)), vm), vk, vb));
        s += 4;
      }
      for (; s < S; s++) store<f32>(at(yp, s), (load<f32>(at(xp, s)) - m) * k + b);
    }
  }
}

/**
 * dBias[c] = Σ gy, dWeight[c] = Σ gy·x̂ with x̂ = (x − mean)·invStd, and
 * training: dx = w·invStd·(gy − dBias/M − x̂·dWeight/M) (the batch statistics depend on x), M = N·S;
 * eval (training == 0, the statistics are constants): dx = gy·w·invStd.
 * One pass for the two sums (channel by channel), then one for dx (in memory order).
 */
export function batchNormBackward(
  gy: usize,
  x: usize,
  mean: usize,
  invStd: usize,
  weight: usize,
  dx: usize,
  dWeight: usize,
  dBias: usize,
  N: i32,
  C: i32,
  S: i32,
  training: i32,
  _ws: usize,
  c0: i32,
  c1: i32,
): void {
  const M = <f64>N * <f64>S;
  const sampleStride = <usize>C * <usize>S * 4;
  const firstSummed = S == 1 ? gradSumsColumns(gy, x, mean, invStd, dWeight, dBias, N, C, c0, c1) : c0;
  for (let c = firstSummed; c < c1; c++) {
    const first = <usize>c * <usize>S * 4;
    const m = load<f32>(at(mean, c));
    sumA = 0;
    sumB = 0;
    for (let n = 0; n < N; n++) {
      const offset = first + <usize>n * sampleStride;
      addGradSums(gy + offset, x + offset, S, m);
    }
    store<f32>(at(dBias, c), <f32>sumA);
    store<f32>(at(dWeight, c), <f32>(sumB * <f64>load<f32>(at(invStd, c))));
  }
  // dx in memory order: a second channel-by-channel sweep ran at half the speed of the forward.
  // The statistics' share of dx is scaled by −1/M; in eval they are constants and have none.
  const negInvM: f32 = training != 0 ? <f32>(-1 / M) : 0;
  for (let n = 0; n < N; n++) {
    const row = <usize>n * <usize>C;
    const first =
      S == 1 ? dxColumns(gy, x, mean, invStd, weight, dWeight, dBias, dx, row, negInvM, c0, c1) : c0;
    for (let c = first; c < c1; c++) {
      const offset = (row + <usize>c) * <usize>S * 4;
      const is = <f64>load<f32>(at(invStd, c));
      const k1 = channelWeight(weight, c) * is;
      if (training != 0) {
        // dx = k1·gy + k2·(x − m) + k3
        const k2 = (-k1 * is * <f64>load<f32>(at(dWeight, c))) / M;
        const k3 = (-k1 * <f64>load<f32>(at(dBias, c))) / M;
        const m = load<f32>(at(mean, c));
        gradStrip(gy + offset, x + offset, dx + offset, S, m, <f32>k1, <f32>k2, <f32>k3);
      } else {
        scaleStrip(gy + offset, dx + offset, S, <f32>k1);
      }
    }
  }
}

function gradStrip(g: usize, x: usize, dx: usize, S: i32, m: f32, k1: f32, k2: f32, k3: f32): void {
  const vm = f32x4.splat(m);
  const v1 = f32x4.splat(k1);
  const v2 = f32x4.splat(k2);
  const v3 = f32x4.splat(k3);
  let s = 0;
  for (; s + 8 <= S; s += 8) {
    const r0 = fmadd(f32x4.sub(v128.load(at(x, s)), vm), v2, v3);
    const r1 = fmadd(f32x4.sub(v128.load(at(x, s), 16), vm), v2, v3);
    v128.store(at(dx, s), fmadd(v128.load(at(g, s)), v1, r0));
    v128.store(at(dx, s), fmadd(v128.load(at(g, s), 16), v1, r1), 16);
  }
  if (s + 4 <= S) {
    const r0 = fmadd(f32x4.sub(v128.load(at(x, s)), vm), v2, v3);
    v128.store(at(dx, s), fmadd(v128.load(at(g, s)), v1, r0));
    s += 4;
  }
  for (; s < S; s++) {
    store<f32>(at(dx, s), load<f32>(at(g, s)) * k1 + ((load<f32>(at(x, s)) - m) * k2 + k3));
  }
}

function scaleStrip(g: usize, dx: usize, S: i32, k1: f32): void {
  const v1 = f32x4.splat(k1);
  let s = 0;
  for (; s + 4 <= S; s += 4) v128.store(at(dx, s), f32x4.mul(v128.load(at(g, s)), v1));
  for (; s < S; s++) store<f32>(at(dx, s), load<f32>(at(g, s)) * k1);
}

// [N, C] input (S = 1): a channel's values are a column, so the kernels run over four channels at once
// (one f32x4 per row) and leave the last (c1 − c0) % 4 channels to the per-channel code, returning the
// first channel they did not handle. Column sums go to f64 every ROWS rows.

const ROWS: i32 = 64;

function widenLow(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

function widenHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/** Four f32 lanes from two f64x2 halves. */
function narrow(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

function statsColumns(x: usize, mean: usize, variance: usize, N: i32, C: i32, c0: i32, c1: i32): i32 {
  const invM = f64x2.splat(1 / <f64>N);
  const rowBytes = <usize>C * 4;
  let c = c0;
  for (; c + 4 <= c1; c += 4) {
    const p = at(x, c);
    let lo = f64x2.splat(0);
    let hi = f64x2.splat(0);
    for (let n0 = 0; n0 < N; n0 += ROWS) {
      const n1 = min<i32>(n0 + ROWS, N);
      let a = f32x4.splat(0);
      for (let n = n0; n < n1; n++) a = f32x4.add(a, v128.load(p + <usize>n * rowBytes));
      lo = f64x2.add(lo, widenLow(a));
      hi = f64x2.add(hi, widenHigh(a));
    }
    const m = narrow(f64x2.mul(lo, invM), f64x2.mul(hi, invM));
    let dLo = f64x2.splat(0);
    let dHi = f64x2.splat(0);
    let qLo = f64x2.splat(0);
    let qHi = f64x2.splat(0);
    for (let n0 = 0; n0 < N; n0 += ROWS) {
      const n1 = min<i32>(n0 + ROWS, N);
      let d = f32x4.splat(0);
      let q = f32x4.splat(0);
      for (let n = n0; n < n1; n++) {
        const e = f32x4.sub(v128.load(p + <usize>n * rowBytes), m);
        d = f32x4.add(d, e);
        q = fmadd(e, e, q);
      }
      dLo = f64x2.add(dLo, widenLow(d));
      dHi = f64x2.add(dHi, widenHigh(d));
      qLo = f64x2.add(qLo, widenLow(q));
      qHi = f64x2.add(qHi, widenHigh(q));
    }
    const shiftLo = f64x2.mul(dLo, invM);
    const shiftHi = f64x2.mul(dHi, invM);
    const zero = f64x2.splat(0);
    const varLo = f64x2.max(f64x2.sub(f64x2.mul(qLo, invM), f64x2.mul(shiftLo, shiftLo)), zero);
    const varHi = f64x2.max(f64x2.sub(f64x2.mul(qHi, invM), f64x2.mul(shiftHi, shiftHi)), zero);
    v128.store(at(mean, c), narrow(f64x2.add(widenLow(m), shiftLo), f64x2.add(widenHigh(m), shiftHi)));
    v128.store(at(variance, c), narrow(varLo, varHi));
  }
  return c;
}

function weights4(weight: usize, c: i32): v128 {
  return weight == 0 ? f32x4.splat(1) : v128.load(at(weight, c));
}

function forwardColumns(
  x: usize,
  mean: usize,
  invStd: usize,
  weight: usize,
  bias: usize,
  y: usize,
  row: usize,
  c0: i32,
  c1: i32,
): i32 {
  const xr = x + row * 4;
  const yr = y + row * 4;
  let c = c0;
  for (; c + 4 <= c1; c += 4) {
    const k = f32x4.mul(v128.load(at(invStd, c)), weights4(weight, c));
    const b = bias == 0 ? f32x4.splat(0) : v128.load(at(bias, c));
    v128.store(at(yr, c), fmadd(f32x4.sub(v128.load(at(xr, c)), v128.load(at(mean, c))), k, b));
  }
  return c;
}

function gradSumsColumns(
  gy: usize,
  x: usize,
  mean: usize,
  invStd: usize,
  dWeight: usize,
  dBias: usize,
  N: i32,
  C: i32,
  c0: i32,
  c1: i32,
): i32 {
  const rowBytes = <usize>C * 4;
  let c = c0;
  for (; c + 4 <= c1; c += 4) {
    const gp = at(gy, c);
    const xp = at(x, c);
    const m = v128.load(at(mean, c));
    let gLo = f64x2.splat(0);
    let gHi = f64x2.splat(0);
    let pLo = f64x2.splat(0);
    let pHi = f64x2.splat(0);
    for (let n0 = 0; n0 < N; n0 += ROWS) {
      const n1 = min<i32>(n0 + ROWS, N);
      let g = f32x4.splat(0);
      let p = f32x4.splat(0);
      for (let n = n0; n < n1; n++) {
        const offset = <usize>n * rowBytes;
        const gv = v128.load(gp + offset);
        g = f32x4.add(g, gv);
        p = fmadd(gv, f32x4.sub(v128.load(xp + offset), m), p);
      }
      gLo = f64x2.add(gLo, widenLow(g));
      gHi = f64x2.add(gHi, widenHigh(g));
      pLo = f64x2.add(pLo, widenLow(p));
      pHi = f64x2.add(pHi, widenHigh(p));
    }
    const is = v128.load(at(invStd, c));
    v128.store(at(dBias, c), narrow(gLo, gHi));
    v128.store(at(dWeight, c), narrow(f64x2.mul(pLo, widenLow(is)), f64x2.mul(pHi, widenHigh(is))));
  }
  return c;
}

/**
 * dx = k1·gy + k2·(x − m) + k3 with k1 = w·invStd, k2 = −k1·invStd·dWeight/M, k3 = −k1·dBias/M; just k1·gy
 * in eval (negInvM == 0), which does not read x.
 */
function dxColumns(
  gy: usize,
  x: usize,
  mean: usize,
  invStd: usize,
  weight: usize,
  dWeight: usize,
  dBias: usize,
  dx: usize,
  row: usize,
  negInvM: f32,
  c0: i32,
  c1: i32,
): i32 {
  const gr = gy + row * 4;
  const xr = x + row * 4;
  const dr = dx + row * 4;
  const f = f32x4.splat(negInvM);
  let c = c0;
  for (; c + 4 <= c1; c += 4) {
    const is = v128.load(at(invStd, c));
    const k1 = f32x4.mul(weights4(weight, c), is);
    if (negInvM == 0) {
      v128.store(at(dr, c), f32x4.mul(v128.load(at(gr, c)), k1));
      continue;
    }
    const k1f = f32x4.mul(k1, f);
    const k2 = f32x4.mul(f32x4.mul(k1f, is), v128.load(at(dWeight, c)));
    const k3 = f32x4.mul(k1f, v128.load(at(dBias, c)));
    const r = fmadd(f32x4.sub(v128.load(at(xr, c)), v128.load(at(mean, c))), k2, k3);
    v128.store(at(dr, c), fmadd(v128.load(at(gr, c)), k1, r));
  }
  return c;
}
