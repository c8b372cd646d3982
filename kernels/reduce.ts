// Reductions along one (merged) axis: x viewed as [outer][r][inner], y as [outer][inner].
//
// Memory layout: x[o*r*inner + k*inner + i] -> y[o*inner + i]. The wrapper merges adjacent axes and runs
// several passes when the reduced axes are not adjacent (e.g. N and H*W of NCHW). With inner == 1 a row
// is reduced in four f32x4 accumulators (one below SHORT_ROW floats) then a horizontal step; with
// inner > 1 whole rows are combined with f32x4.
// Units: outer indices [u0, u1). Max and min propagate NaN (the last NaN seen), like the js reference.
// Workspace: sums with inner > 1 keep an f64 total of up to COLS columns at the start of `ws` (8 KiB).
// argmax: x viewed as [outer][len][inner], y as i32 [outer][inner]; the first maximum wins.
//
// Numerics of sums: f32x4 lanes sum blocks (BLOCK consecutive floats of a row with inner == 1, ROW_BLOCK
// rows with inner > 1), each block's partial is added into an f64 total, and the total is scaled (1/count
// for a mean) and rounded to f32 once. A float32 addition chain as long as the block bounds the rounding
// error (32 additions per lane, or 16 rows), instead of one that grows with r: summed sequentially in f32,
// a million values of 1000 ± 0.1 lose the spread. The split of a reduction into blocks depends only on r
// and inner, never on the threads, so every thread count gives the same bits.

import { hmax, hmin, hsum64 } from "./simd";
import { ReduceCode } from "../src/backend/wasm/op-codes";

/** Floats of a row (inner == 1) summed in f32 lanes before the partial moves to f64: 32 per lane. */
const BLOCK: i32 = 512;
/** Rows (inner > 1) summed into an f32 row before it moves to the f64 total. */
const ROW_BLOCK: i32 = 16;
/** Rows (inner == 1) shorter than this are reduced with one f32x4 accumulator (less set-up per row). */
const SHORT_ROW: i32 = 32;
/** Columns (inner > 1) whose f64 total lives in the workspace at once. */
const COLS: i32 = 1024;

function at(p: usize, i: i32): usize {
  return p + ((<usize>i) << 2);
}

function at64(p: usize, i: i32): usize {
  return p + ((<usize>i) << 3);
}

function combine(op: i32, a: v128, b: v128): v128 {
  if (op == ReduceCode.sum) return f32x4.add(a, b);
  if (op == ReduceCode.max) return f32x4.max(a, b);
  return f32x4.min(a, b);
}

function combineScalar(op: i32, acc: f32, v: f32): f32 {
  if (op == ReduceCode.sum) return acc + v;
  if (op == ReduceCode.max) return v > acc || v != v ? v : acc;
  return v < acc || v != v ? v : acc;
}

/** Σ p[0..r) for r < SHORT_ROW (e.g. a softmax over classes): one accumulator, nothing to set up. */
function sumShortRow(p: usize, r: i32): f64 {
  let a = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= r; k += 4) a = f32x4.add(a, v128.load(at(p, k)));
  let t = hsum64(a);
  for (; k < r; k++) t += <f64>load<f32>(at(p, k));
  return t;
}

/** Σ p[0..r) in BLOCK-float f32x4 partials carried in f64. */
function sumRow(p: usize, r: i32): f64 {
  if (r < SHORT_ROW) return sumShortRow(p, r);
  let total: f64 = 0;
  for (let k0 = 0; k0 < r; k0 += BLOCK) {
    const k1 = min<i32>(k0 + BLOCK, r);
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let k = k0;
    for (; k + 16 <= k1; k += 16) {
      a0 = f32x4.add(a0, v128.load(at(p, k)));
      a1 = f32x4.add(a1, v128.load(at(p, k), 16));
      a2 = f32x4.add(a2, v128.load(at(p, k), 32));
      a3 = f32x4.add(a3, v128.load(at(p, k), 48));
    }
    for (; k + 4 <= k1; k += 4) a0 = f32x4.add(a0, v128.load(at(p, k)));
    let t = hsum64(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
    for (; k < k1; k++) t += <f64>load<f32>(at(p, k));
    total += t;
  }
  return total;
}

/**
 * y[o] = max or min of row o of x (op ReduceCode.max or ReduceCode.min), o in [u0, u1). Rows of SHORT_ROW or more use four
 * accumulators to hide the latency of f32x4.max/min; the result does not depend on how lanes are grouped
 * (both are commutative and associative in wasm, NaN included, and order +0 above −0), so it is the
 * single-accumulator result.
 */
function extremesOfRows(op: i32, x: usize, y: usize, r: i32, u0: i32, u1: i32): void {
  for (let o = u0; o < u1; o++) {
    const p = x + ((<usize>o * <usize>r) << 2);
    let s: f32 = op == ReduceCode.max ? -Infinity : Infinity;
    let k = 0;
    if (r >= 4) {
      let acc = f32x4.splat(s);
      if (r >= SHORT_ROW) {
        let a1 = acc;
        let a2 = acc;
        let a3 = acc;
        for (; k + 16 <= r; k += 16) {
          acc = combine(op, acc, v128.load(at(p, k)));
          a1 = combine(op, a1, v128.load(at(p, k), 16));
          a2 = combine(op, a2, v128.load(at(p, k), 32));
          a3 = combine(op, a3, v128.load(at(p, k), 48));
        }
        acc = combine(op, combine(op, acc, a1), combine(op, a2, a3));
      }
      for (; k + 4 <= r; k += 4) acc = combine(op, acc, v128.load(at(p, k)));
      s = op == ReduceCode.max ? hmax(acc) : hmin(acc);
    }
    for (; k < r; k++) s = combineScalar(op, s, load<f32>(at(p, k)));
    store<f32>(at(y, o), s);
  }
}

/** dst[0..w) = combine of `rows` rows of w floats, `stride` bytes apart, starting at src. */
function combineRows(op: i32, src: usize, dst: usize, rows: i32, stride: usize, w: i32): void {
  memory.copy(dst, src, (<usize>w) << 2);
  for (let k = 1; k < rows; k++) {
    const xr = src + <usize>k * stride;
    let i = 0;
    for (; i + 8 <= w; i += 8) {
      v128.store(at(dst, i), combine(op, v128.load(at(dst, i)), v128.load(at(xr, i))));
      v128.store(at(dst, i), combine(op, v128.load(at(dst, i), 16), v128.load(at(xr, i), 16)), 16);
    }
    for (; i + 4 <= w; i += 4)
      v128.store(at(dst, i), combine(op, v128.load(at(dst, i)), v128.load(at(xr, i))));
    for (; i < w; i++) store<f32>(at(dst, i), combineScalar(op, load<f32>(at(dst, i)), load<f32>(at(xr, i))));
  }
}

/** total[0..w) (f64) = part (f32) when first, else += part. */
function addToTotal(total: usize, part: usize, w: i32, first: bool): void {
  let i = 0;
  for (; i + 4 <= w; i += 4) {
    const v = v128.load(at(part, i));
    let lo = f64x2.promote_low_f32x4(v);
    let hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    if (!first) {
      lo = f64x2.add(lo, v128.load(at64(total, i)));
      hi = f64x2.add(hi, v128.load(at64(total, i), 16));
    }
    v128.store(at64(total, i), lo);
    v128.store(at64(total, i), hi, 16);
  }
  for (; i < w; i++) {
    const v = <f64>load<f32>(at(part, i));
    store<f64>(at64(total, i), first ? v : load<f64>(at64(total, i)) + v);
  }
}

/** y[0..w) = f32(total[0..w) * scale). */
function storeScaled(y: usize, total: usize, w: i32, scale: f64): void {
  const vs = f64x2.splat(scale);
  let i = 0;
  for (; i + 4 <= w; i += 4) {
    const lo = f32x4.demote_f64x2_zero(f64x2.mul(v128.load(at64(total, i)), vs));
    const hi = f32x4.demote_f64x2_zero(f64x2.mul(v128.load(at64(total, i), 16), vs));
    v128.store(at(y, i), v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
  }
  for (; i < w; i++) store<f32>(at(y, i), <f32>(load<f64>(at64(total, i)) * scale));
}

/** y[0..w) = f32(y * scale), in place. */
function scaleInPlace(y: usize, w: i32, scale: f64): void {
  const vs = f64x2.splat(scale);
  let i = 0;
  for (; i + 4 <= w; i += 4) {
    const v = v128.load(at(y, i));
    const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v), vs));
    const hi = f32x4.demote_f64x2_zero(
      f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), vs),
    );
    v128.store(at(y, i), v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
  }
  for (; i < w; i++) store<f32>(at(y, i), <f32>(<f64>load<f32>(at(y, i)) * scale));
}

/**
 * y[0..inner) = scale * Σ_k x[k][0..inner), by column chunks of COLS: blocks of ROW_BLOCK rows are summed
 * in f32 into y's chunk, and each block goes into the chunk's f64 total in the workspace. A reduction of
 * one block needs no total.
 */
function sumRows(xo: usize, yo: usize, r: i32, inner: i32, scale: f64, ws: usize): void {
  const stride = (<usize>inner) << 2;
  if (r <= ROW_BLOCK) {
    combineRows(ReduceCode.sum, xo, yo, r, stride, inner);
    if (scale != 1) scaleInPlace(yo, inner, scale);
    return;
  }
  for (let c0 = 0; c0 < inner; c0 += COLS) {
    const w = min<i32>(COLS, inner - c0);
    const xc = at(xo, c0);
    const yc = at(yo, c0);
    for (let k0 = 0; k0 < r; k0 += ROW_BLOCK) {
      const rows = min<i32>(ROW_BLOCK, r - k0);
      combineRows(ReduceCode.sum, xc + <usize>k0 * stride, yc, rows, stride, w);
      addToTotal(ws, yc, w, k0 == 0);
    }
    storeScaled(yc, ws, w, scale);
  }
}

export function reduce(
  op: i32,
  x: usize,
  y: usize,
  r: i32,
  inner: i32,
  scale: f64,
  ws: usize,
  u0: i32,
  u1: i32,
): void {
  if (inner == 1 && op != ReduceCode.sum) {
    extremesOfRows(op, x, y, r, u0, u1);
    return;
  }
  const stride = (<usize>inner) << 2;
  for (let o = u0; o < u1; o++) {
    const xo = x + <usize>o * <usize>r * stride;
    const yo = at(y, o * inner);
    if (op != ReduceCode.sum) combineRows(op, xo, yo, r, stride, inner);
    else if (inner == 1) store<f32>(yo, <f32>(sumRow(xo, r) * scale));
    else sumRows(xo, yo, r, inner, scale, ws);
  }
}

/** y[o][i] = index of the first maximum of x[o][:][i] (NaN never wins after the first element). */
export function argmax(x: usize, y: usize, len: i32, inner: i32, _ws: usize, u0: i32, u1: i32): void {
  for (let o = u0; o < u1; o++) {
    const xo = x + <usize>(o * len * inner * 4);
    const yo = y + <usize>(o * inner * 4);
    for (let i = 0; i < inner; i++) {
      let best: f32 = load<f32>(xo + <usize>(i * 4));
      let at = 0;
      for (let j = 1; j < len; j++) {
        const v = load<f32>(xo + <usize>((j * inner + i) * 4));
        if (v > best) {
          best = v;
          at = j;
        }
      }
      store<i32>(yo + <usize>(i * 4), at);
    }
  }
}
