// Depthwise conv2d (groups == C, O = C * multiplier): a direct kernel, since as a GEMM each group would
// be a 1 x KH*KW times KH*KW x P product with no reuse.
//
// Memory layout (PyTorch conventions)
// - x / dx: NCHW [N][C][H][W]; y / dy: [N][O][OH][OW]; w / dw: [O][1][KH][KW]; bias / db: [O].
// - Output channel o reads input channel c = o / mult.
// - Every kernel is written as row operations: for one output row oh and one tap (kh, kw), the valid
//   output columns [ow0, ow1) form a contiguous run; with stride 1 the matching input columns are
//   contiguous too and the row is done with f32x4 (axpy for forward/input gradient, dot for weight
//   gradient); other strides take the scalar path.
// Units: forward = N*O output planes, input gradient = N*C input planes, weight gradient = O channels.

import { fmadd, hsum } from "./simd";

/** What Rows.taps does with each tap's run of valid output columns. */
const enum TapOp {
  /** y[ow] += w * x[ow*sw + off] */
  Forward,
  /** dx[ow*sw + off] += w * dy[ow] */
  InputGrad,
  /** dw += sum over the run of dy[ow] * x[ow*sw + off] */
  WeightGrad,
}

// The three kernels walk the same output rows and taps; they differ only in what they do with a run.
// taps, axpy and dot are @inline static methods (a decorator on a plain function does not parse for
// prettier): inlined, `op` is a constant, so each kernel keeps only its own branch, as if written out in
// place. fill and sum have one caller each, which Binaryen inlines by itself.
class Rows {
  /**
   * Every tap of one output row, whose first input row is ih0 (= oh*sh - ph): kernel rows that fall
   * outside the plane are skipped, and for tap (kh, kw) the output columns [ow0, ow1) whose input column
   * ow*sw + kw*dw - pw lies inside the row form one run (`outRow`: the output row of y or dy; `plane`: the
   * input plane of x or dx; `taps`: the KH x KW weights of w or dw).
   */
  @inline static taps(
    op: TapOp,
    outRow: usize,
    plane: usize,
    taps: usize,
    ih0: i32,
    H: i32,
    W: i32,
    KH: i32,
    KW: i32,
    sw: i32,
    pw: i32,
    dh: i32,
    dw: i32,
    OW: i32,
  ): void {
    for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * dh;
      if (<u32>ih >= <u32>H) continue;
      const inRow = plane + <usize>(ih * W * 4);
      for (let kw = 0; kw < KW; kw++) {
        const tap = taps + <usize>((kh * KW + kw) * 4);
        const off = kw * dw - pw;
        const ow0 = firstCol(off, sw);
        const ow1 = endCol(off, sw, W, OW);
        if (ow1 <= ow0) continue;
        const out = outRow + <usize>(ow0 * 4);
        const inp = inRow + <usize>((ow0 * sw + off) * 4);
        if (op == TapOp.Forward) Rows.axpy(out, 1, inp, sw, ow1 - ow0, load<f32>(tap));
        else if (op == TapOp.InputGrad) Rows.axpy(inp, sw, out, 1, ow1 - ow0, load<f32>(tap));
        else store<f32>(tap, load<f32>(tap) + Rows.dot(out, inp, sw, ow1 - ow0));
      }
    }
  }

  /** dst[i*ds] += a * src[i*ss] for i < n: f32x4 when both runs are contiguous (the stride-1 case). */
  @inline static axpy(dst: usize, ds: i32, src: usize, ss: i32, n: i32, a: f32): void {
    if (ds == 1 && ss == 1) {
      const va = f32x4.splat(a);
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const o = <usize>(i * 4);
        v128.store(dst + o, fmadd(va, v128.load(src + o), v128.load(dst + o)));
      }
      for (; i < n; i++) {
        const o = <usize>(i * 4);
        store<f32>(dst + o, load<f32>(dst + o) + a * load<f32>(src + o));
      }
    } else {
      for (let i = 0; i < n; i++) {
        const d = dst + <usize>(i * ds * 4);
        store<f32>(d, load<f32>(d) + a * load<f32>(src + <usize>(i * ss * 4)));
      }
    }
  }

  /** sum a[i] * b[i*bs] for i < n: f32x4 when b is contiguous. */
  @inline static dot(a: usize, b: usize, bs: i32, n: i32): f32 {
    let i = 0;
    let s: f32 = 0;
    if (bs == 1) {
      let acc = f32x4.splat(0);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>(i * 4);
        acc = fmadd(v128.load(a + o), v128.load(b + o), acc);
      }
      s = hsum(acc);
    }
    for (; i < n; i++) s += load<f32>(a + <usize>(i * 4)) * load<f32>(b + <usize>(i * bs * 4));
    return s;
  }

  /** row[i] = v for i < n (the bias the forward accumulates onto). */
  static fill(row: usize, n: i32, v: f32): void {
    const vv = f32x4.splat(v);
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(row + <usize>(i * 4), vv);
    for (; i < n; i++) store<f32>(row + <usize>(i * 4), v);
  }

  /** sum row[i] for i < n (the bias gradient). */
  static sum(row: usize, n: i32): f32 {
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= n; i += 4) acc = f32x4.add(acc, v128.load(row + <usize>(i * 4)));
    let s = hsum(acc);
    for (; i < n; i++) s += load<f32>(row + <usize>(i * 4));
    return s;
  }
}

/** First output column whose tap (offset = kw*dw - pw) lands inside [0, W). */
function firstCol(off: i32, sw: i32): i32 {
  return off >= 0 ? 0 : (-off + sw - 1) / sw;
}

/** One past the last output column whose tap lands inside [0, W). */
function endCol(off: i32, sw: i32, W: i32, OW: i32): i32 {
  const num = W - 1 - off;
  return num < 0 ? 0 : min<i32>(OW, num / sw + 1);
}

export function depthwiseConv2dForward(
  x: usize,
  w: usize,
  bias: usize,
  y: usize,
  C: i32,
  H: i32,
  W: i32,
  O: i32,
  KH: i32,
  KW: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
  dh: i32,
  dw: i32,
  OH: i32,
  OW: i32,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  const mult = O / C;
  for (let u = u0; u < u1; u++) {
    const n = u / O;
    const o = u - n * O;
    const xp = x + <usize>((n * C + o / mult) * H * W * 4);
    const wp = w + <usize>(o * KH * KW * 4);
    const b: f32 = bias == 0 ? 0 : load<f32>(bias + <usize>(o * 4));
    for (let oh = 0; oh < OH; oh++) {
      const yr = y + <usize>((u * OH + oh) * OW * 4);
      Rows.fill(yr, OW, b);
      Rows.taps(TapOp.Forward, yr, xp, wp, oh * sh - ph, H, W, KH, KW, sw, pw, dh, dw, OW);
    }
  }
}

/** dx (planes [u0, u1) of N*C) = input gradient; dx += ... when accumulate != 0. */
export function depthwiseConv2dBackwardInput(
  dy: usize,
  w: usize,
  dx: usize,
  C: i32,
  H: i32,
  W: i32,
  O: i32,
  KH: i32,
  KW: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
  dh: i32,
  dw: i32,
  OH: i32,
  OW: i32,
  accumulate: i32,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  const mult = O / C;
  for (let u = u0; u < u1; u++) {
    const n = u / C;
    const c = u - n * C;
    const dxp = dx + <usize>(u * H * W * 4);
    if (accumulate == 0) memory.fill(dxp, 0, <usize>(H * W * 4));
    for (let m = 0; m < mult; m++) {
      const o = c * mult + m;
      const dyp = dy + <usize>((n * O + o) * OH * OW * 4);
      const wp = w + <usize>(o * KH * KW * 4);
      for (let oh = 0; oh < OH; oh++) {
        const dyr = dyp + <usize>(oh * OW * 4);
        Rows.taps(TapOp.InputGrad, dyr, dxp, wp, oh * sh - ph, H, W, KH, KW, sw, pw, dh, dw, OW);
      }
    }
  }
}

/** dw[o] = beta*dw[o] + sum over the batch, and db[o] likewise if db != 0; channels [u0, u1). */
export function depthwiseConv2dBackwardWeight(
  x: usize,
  dy: usize,
  dW: usize,
  db: usize,
  N: i32,
  C: i32,
  H: i32,
  W: i32,
  O: i32,
  KH: i32,
  KW: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
  dh: i32,
  dw: i32,
  OH: i32,
  OW: i32,
  beta: f32,
  _ws: usize,
  u0: i32,
  u1: i32,
): void {
  const mult = O / C;
  for (let o = u0; o < u1; o++) {
    const wp = dW + <usize>(o * KH * KW * 4);
    for (let t = 0; t < KH * KW; t++) {
      const d = wp + <usize>(t * 4);
      store<f32>(d, beta == 0 ? 0 : beta * load<f32>(d));
    }
    let bsum: f32 = 0;
    for (let n = 0; n < N; n++) {
      const xp = x + <usize>((n * C + o / mult) * H * W * 4);
      const dyp = dy + <usize>((n * O + o) * OH * OW * 4);
      for (let oh = 0; oh < OH; oh++) {
        const dyr = dyp + <usize>(oh * OW * 4);
        if (db != 0) bsum += Rows.sum(dyr, OW);
        Rows.taps(TapOp.WeightGrad, dyr, xp, wp, oh * sh - ph, H, W, KH, KW, sw, pw, dh, dw, OW);
      }
    }
    if (db != 0) {
      const d = db + <usize>(o * 4);
      store<f32>(d, beta == 0 ? bsum : beta * load<f32>(d) + bsum);
    }
  }
}
