// 2-D max and average pooling, forward and backward.
//
// Memory layout
// - x / dx: planes of H x W floats (N*C planes of an NCHW tensor, plane p at x + p*H*W*4).
// - y / dy: planes of OH x OW floats; idx: planes of OH x OW i32 holding the argmax of each window as a
//   flat index ih*W + iw within its input plane (PyTorch's convention).
// - Windows start at oh*sh - ph and take KH taps spaced dh apart; taps outside the plane are padding
//   (-inf for max, 0 for average). OH/OW come from the caller (floor or ceil mode).
// Every function works on planes [p0, p1) so threads can split a call; `ws` is unused.

/** Max pooling with argmax. Ties keep the first maximum; a NaN wins (the last one), as in PyTorch. */
export function maxPool2dForward(
  x: usize,
  y: usize,
  idx: usize,
  H: i32,
  W: i32,
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
  p0: i32,
  p1: i32,
): void {
  const HW = H * W;
  const OHW = OH * OW;
  const fast2x2 = KH == 2 && KW == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && dh == 1 && dw == 1;
  // Stride 2 along rows (3x3 s2 in ResNet, GoogLeNet, AlexNet): outputs whose window and 8-float loads stay
  // inside the row go four at a time: blocks start at owLo..lastStart, the edges take the scalar path.
  const stride2 = !fast2x2 && sw == 2 && dw == 1;
  const owLo = (pw + 1) >> 1;
  const lastStart = min<i32>(OW - 4, (W - KW - 7 + pw) >> 1);
  for (let p = p0; p < p1; p++) {
    const xp = x + <usize>(p * HW * 4);
    const yp = y + <usize>(p * OHW * 4);
    const ip = idx + <usize>(p * OHW * 4);
    for (let oh = 0; oh < OH; oh++) {
      let hs = oh * sh - ph;
      const he = min<i32>(hs + (KH - 1) * dh + 1, H);
      while (hs < 0) hs += dh;
      if (fast2x2) {
        const ow0 = 2 * oh + 1 < H ? maxPool2x2Row(xp, yp, ip, W, oh, OW) : 0;
        maxPoolScalar(xp, yp, ip, W, KW, sw, pw, dw, dh, hs, he, oh, OW, ow0, OW);
      } else if (stride2 && lastStart >= owLo) {
        maxPoolScalar(xp, yp, ip, W, KW, sw, pw, dw, dh, hs, he, oh, OW, 0, owLo);
        const ow1 = maxPoolStride2Row(xp, yp, ip, W, KW, pw, dh, hs, he, oh, OW, owLo, lastStart);
        maxPoolScalar(xp, yp, ip, W, KW, sw, pw, dw, dh, hs, he, oh, OW, ow1, OW);
      } else {
        maxPoolScalar(xp, yp, ip, W, KW, sw, pw, dw, dh, hs, he, oh, OW, 0, OW);
      }
    }
  }
}

/** Outputs [ow0, ow1) of row oh, one window at a time (any geometry; windows clipped to the plane). */
function maxPoolScalar(
  xp: usize,
  yp: usize,
  ip: usize,
  W: i32,
  KW: i32,
  sw: i32,
  pw: i32,
  dw: i32,
  dh: i32,
  hs: i32,
  he: i32,
  oh: i32,
  OW: i32,
  ow0: i32,
  ow1: i32,
): void {
  for (let ow = ow0; ow < ow1; ow++) {
    let ws = ow * sw - pw;
    const we = min<i32>(ws + (KW - 1) * dw + 1, W);
    while (ws < 0) ws += dw;
    let best: f32 = -Infinity;
    let bestAt = hs * W + ws;
    for (let ih = hs; ih < he; ih += dh) {
      const row = xp + <usize>(ih * W * 4);
      for (let iw = ws; iw < we; iw += dw) {
        const v = load<f32>(row + <usize>(iw * 4));
        if (v > best || v != v) {
          best = v;
          bestAt = ih * W + iw;
        }
      }
    }
    store<f32>(yp + <usize>((oh * OW + ow) * 4), best);
    store<i32>(ip + <usize>((oh * OW + ow) * 4), bestAt);
  }
}

/**
 * Separate from the scalar loop for speed (ResNet-18 at batch 1: the 3x3 s2 pool took 8 % of inference).
 * Column stride 2, any KW, dilation 1, for blocks of four outputs starting at owLo..lastStart, whose
 * windows and 8-float loads lie inside the row, the taps visited in the scalar scan order (rows hs..he, then columns) with the same
 * rule (strictly greater, or NaN), so values and indices match the scalar path. Each tap's four inputs are
 * the even lanes of 8 floats loaded from its first column. Returns the first output it did not write.
 */
function maxPoolStride2Row(
  xp: usize,
  yp: usize,
  ip: usize,
  W: i32,
  KW: i32,
  pw: i32,
  dh: i32,
  hs: i32,
  he: i32,
  oh: i32,
  OW: i32,
  owLo: i32,
  lastStart: i32,
): i32 {
  const yr = yp + <usize>(oh * OW * 4);
  const ir = ip + <usize>(oh * OW * 4);
  const lanes = i32x4(0, 2, 4, 6);
  let ow = owLo;
  for (; ow <= lastStart; ow += 4) {
    const c0 = 2 * ow - pw;
    let best = f32x4.splat(-Infinity);
    let at = i32x4.add(i32x4.splat(hs * W + c0), lanes);
    for (let ih = hs; ih < he; ih += dh) {
      const row = xp + <usize>((ih * W + c0) * 4);
      for (let kw = 0; kw < KW; kw++) {
        const a = v128.load(row + <usize>(kw * 4));
        const b = v128.load(row + <usize>(kw * 4), 16);
        const v = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
        const take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
        best = v128.bitselect(v, best, take);
        at = v128.bitselect(i32x4.add(i32x4.splat(ih * W + c0 + kw), lanes), at, take);
      }
    }
    v128.store(yr + <usize>(ow * 4), best);
    v128.store(ir + <usize>(ow * 4), at);
  }
  return ow;
}

/**
 * Separate from the scalar loop for speed: the common 2x2 stride-2 case in f32x4 (LeNet-5: 9 % -> 3 %).
 * 2x2 windows with stride 2 and no padding, four outputs per step with f32x4: the four taps of each window
 * are compared in the scalar scan order ((0,0), (0,1), (1,0), (1,1)) with the same rule (strictly greater,
 * or NaN), so values and indices match the scalar path. Returns how many outputs of row oh it wrote (the
 * rest, whose windows may be clipped in ceil mode, go through the scalar path).
 */
function maxPool2x2Row(xp: usize, yp: usize, ip: usize, W: i32, oh: i32, OW: i32): i32 {
  const r0 = xp + <usize>(2 * oh * W * 4);
  const r1 = r0 + <usize>(W * 4);
  const yr = yp + <usize>(oh * OW * 4);
  const ir = ip + <usize>(oh * OW * 4);
  const one = i32x4.splat(1);
  const down = i32x4.splat(W);
  // When every window lies inside the row, a last block that would run past the end starts at OW - 4
  // instead: it rewrites a few outputs of the block before with the same values, and no output is left to
  // the scalar path (LeNet-5's 28 -> 14 and 10 -> 5 rows ended in 2 and 1 scalar outputs).
  const overlapLast = OW >= 4 && 2 * OW <= W;
  let ow = 0;
  for (; ow < OW; ow += 4) {
    let s = ow;
    if (s + 4 > OW || 2 * s + 8 > W) {
      if (!overlapLast) return ow;
      s = OW - 4;
    }
    const o = <usize>(2 * s * 4);
    const a0 = v128.load(r0 + o);
    const a1 = v128.load(r0 + o, 16);
    const b0 = v128.load(r1 + o);
    const b1 = v128.load(r1 + o, 16);
    const i00 = i32x4.add(i32x4.splat(2 * oh * W + 2 * s), i32x4(0, 2, 4, 6));
    let best = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
    let at = i00;
    let v = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
    let take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
    best = v128.bitselect(v, best, take);
    at = v128.bitselect(i32x4.add(i00, one), at, take);
    v = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
    take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
    best = v128.bitselect(v, best, take);
    const i10 = i32x4.add(i00, down);
    at = v128.bitselect(i10, at, take);
    v = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
    take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
    best = v128.bitselect(v, best, take);
    at = v128.bitselect(i32x4.add(i10, one), at, take);
    v128.store(yr + <usize>(s * 4), best);
    v128.store(ir + <usize>(s * 4), at);
  }
  return OW;
}

/** dx = 0 (unless accumulate), then dx[plane][idx] += dy for every output. */
export function maxPool2dBackward(
  dy: usize,
  idx: usize,
  dx: usize,
  HW: i32,
  OHW: i32,
  accumulate: i32,
  _ws: usize,
  p0: i32,
  p1: i32,
): void {
  for (let p = p0; p < p1; p++) {
    const dxp = dx + <usize>(p * HW * 4);
    const dyp = dy + <usize>(p * OHW * 4);
    const ip = idx + <usize>(p * OHW * 4);
    if (accumulate == 0) memory.fill(dxp, 0, <usize>(HW * 4));
    for (let o = 0; o < OHW; o++) {
      const at = dxp + <usize>(load<i32>(ip + <usize>(o * 4)) * 4);
      store<f32>(at, load<f32>(at) + load<f32>(dyp + <usize>(o * 4)));
    }
  }
}

/**
 * Divisor of window (oh, ow) under PyTorch's rules: divisorOverride if > 0; else the window clipped to
 * the padded input (countIncludePad) or to the input itself.
 */
function avgDivisor(
  hs: i32,
  ws: i32,
  H: i32,
  W: i32,
  KH: i32,
  KW: i32,
  ph: i32,
  pw: i32,
  countIncludePad: i32,
  divisorOverride: i32,
): f32 {
  if (divisorOverride > 0) return <f32>divisorOverride;
  const he = min<i32>(hs + KH, H + ph);
  const we = min<i32>(ws + KW, W + pw);
  if (countIncludePad != 0) return <f32>((he - hs) * (we - ws));
  return <f32>((min<i32>(he, H) - max<i32>(hs, 0)) * (min<i32>(we, W) - max<i32>(ws, 0)));
}

// Average and adaptive average pooling, forward and backward, visit windows of rows [h0, h1) x columns
// [w0, w1) of a plane: forward sums a window of x into one output, backward spreads that output's gradient
// over the same window of dx. Only where the windows lie differs between the two kinds.
//
// The helpers are @inline static methods (a decorator on a plain function does not parse for prettier):
// inlined, `backward` is a constant, so each kernel keeps only its own loop, as if written out in place.
class Windows {
  /** Sum of a window in scan order (scalar: f32x4 partial sums would change the rounding). */
  @inline static sum(plane: usize, W: i32, h0: i32, h1: i32, w0: i32, w1: i32): f32 {
    let s: f32 = 0;
    for (let ih = h0; ih < h1; ih++) {
      const row = plane + <usize>(ih * W * 4);
      for (let iw = w0; iw < w1; iw++) s += load<f32>(row + <usize>(iw * 4));
    }
    return s;
  }

  /** Adds g to every element of a window, f32x4 along its rows. */
  @inline static add(plane: usize, W: i32, h0: i32, h1: i32, w0: i32, w1: i32, g: f32): void {
    for (let ih = h0; ih < h1; ih++) {
      const row = plane + <usize>(ih * W * 4);
      let iw = w0;
      if (w1 - w0 >= 4) {
        const gv = f32x4.splat(g);
        for (; iw + 4 <= w1; iw += 4) {
          const a = row + <usize>(iw * 4);
          v128.store(a, f32x4.add(v128.load(a), gv));
        }
      }
      for (; iw < w1; iw++) {
        const a = row + <usize>(iw * 4);
        store<f32>(a, load<f32>(a) + g);
      }
    }
  }

  /**
   * One plane of average pooling: y (OH x OW at `pooled`) from x (H x W at `plane`), or with `backward`
   * dx at `plane` += the windows' shares of dy at `pooled`.
   */
  @inline static avg(
    backward: bool,
    plane: usize,
    pooled: usize,
    H: i32,
    W: i32,
    KH: i32,
    KW: i32,
    sh: i32,
    sw: i32,
    ph: i32,
    pw: i32,
    OH: i32,
    OW: i32,
    countIncludePad: i32,
    divisorOverride: i32,
  ): void {
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * sh - ph;
      const h0 = max<i32>(hs, 0);
      const h1 = min<i32>(hs + KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * sw - pw;
        const w0 = max<i32>(ws, 0);
        const w1 = min<i32>(ws + KW, W);
        const out = pooled + <usize>((oh * OW + ow) * 4);
        const div = avgDivisor(hs, ws, H, W, KH, KW, ph, pw, countIncludePad, divisorOverride);
        if (backward) Windows.add(plane, W, h0, h1, w0, w1, load<f32>(out) / div);
        else store<f32>(out, Windows.sum(plane, W, h0, h1, w0, w1) / div);
      }
    }
  }

  /**
   * One plane of adaptive average pooling, as `avg`: output cell i of OH covers input rows
   * [floor(i*H/OH), ceil((i+1)*H/OH)), likewise for columns (PyTorch's rule).
   */
  @inline static adaptive(
    backward: bool,
    plane: usize,
    pooled: usize,
    H: i32,
    W: i32,
    OH: i32,
    OW: i32,
  ): void {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = (oh * H) / OH;
      const h1 = ((oh + 1) * H + OH - 1) / OH;
      for (let ow = 0; ow < OW; ow++) {
        const w0 = (ow * W) / OW;
        const w1 = ((ow + 1) * W + OW - 1) / OW;
        const out = pooled + <usize>((oh * OW + ow) * 4);
        const count = <f32>((h1 - h0) * (w1 - w0));
        if (backward) Windows.add(plane, W, h0, h1, w0, w1, load<f32>(out) / count);
        else store<f32>(out, Windows.sum(plane, W, h0, h1, w0, w1) / count);
      }
    }
  }
}

/** Average pooling (no dilation, as in PyTorch's AvgPool2d). */
export function avgPool2dForward(
  x: usize,
  y: usize,
  H: i32,
  W: i32,
  KH: i32,
  KW: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
  OH: i32,
  OW: i32,
  countIncludePad: i32,
  divisorOverride: i32,
  _ws: usize,
  p0: i32,
  p1: i32,
): void {
  const HW = H * W;
  const OHW = OH * OW;
  for (let p = p0; p < p1; p++) {
    const xp = x + <usize>(p * HW * 4);
    const yp = y + <usize>(p * OHW * 4);
    Windows.avg(false, xp, yp, H, W, KH, KW, sh, sw, ph, pw, OH, OW, countIncludePad, divisorOverride);
  }
}

/** dx = 0 (unless accumulate), then every output's dy / divisor added over its window. */
export function avgPool2dBackward(
  dy: usize,
  dx: usize,
  H: i32,
  W: i32,
  KH: i32,
  KW: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
  OH: i32,
  OW: i32,
  countIncludePad: i32,
  divisorOverride: i32,
  accumulate: i32,
  _ws: usize,
  p0: i32,
  p1: i32,
): void {
  const HW = H * W;
  const OHW = OH * OW;
  for (let p = p0; p < p1; p++) {
    const dxp = dx + <usize>(p * HW * 4);
    const dyp = dy + <usize>(p * OHW * 4);
    if (accumulate == 0) memory.fill(dxp, 0, <usize>(HW * 4));
    Windows.avg(true, dxp, dyp, H, W, KH, KW, sh, sw, ph, pw, OH, OW, countIncludePad, divisorOverride);
  }
}

export function adaptiveAvgPool2dForward(
  x: usize,
  y: usize,
  H: i32,
  W: i32,
  OH: i32,
  OW: i32,
  _ws: usize,
  p0: i32,
  p1: i32,
): void {
  const HW = H * W;
  const OHW = OH * OW;
  for (let p = p0; p < p1; p++) {
    Windows.adaptive(false, x + <usize>(p * HW * 4), y + <usize>(p * OHW * 4), H, W, OH, OW);
  }
}

/** dx = every output's dy / cell size added over its cell (dx is overwritten). */
export function adaptiveAvgPool2dBackward(
  dy: usize,
  dx: usize,
  H: i32,
  W: i32,
  OH: i32,
  OW: i32,
  _ws: usize,
  p0: i32,
  p1: i32,
): void {
  const HW = H * W;
  const OHW = OH * OW;
  for (let p = p0; p < p1; p++) {
    const dxp = dx + <usize>(p * HW * 4);
    memory.fill(dxp, 0, <usize>(HW * 4));
    Windows.adaptive(true, dxp, dy + <usize>(p * OHW * 4), H, W, OH, OW);
  }
}
