// im2col straight into GEMM B panels, and the col2im scatter used as a GEMM C sink.
//
// Memory layout
// - The image is one group of one NCHW sample: x[c*H*W + h*W + w] for c < C/groups, set by setConvGeom.
// - The virtual im2col matrix has rows k = (c*KH + kh)*KW + kw and columns p = oh*OW + ow:
//   cols[k][p] = x[c][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw], zero outside the image (padding).
// - packBIm2col writes a kc x nc block of cols (rows pc.., columns jc..) in the B-panel layout of gemm.ts:
//   Bp[q*8*kc + k*8 + jj] = cols[pc+k][jc+8q+jj] (zero past the block).
// - packBIm2colT does the same for colsᵀ (rows = output pixels p, columns = k): the weight gradient.
// - packAIm2col writes rows (taps) of cols as GEMM A panels, the depth being output pixels: the weight
//   gradient computed as dWᵀ = cols · dyᵀ (M = taps, large) when there are few output channels.
// - scatterTileCol2im adds a 5x8 tile of dcols (rows k, columns p) into the image: the input gradient.
// - `tables` is scratch (3*NC i32) inside the caller's GEMM workspace.
// - Gather mode (usePaddedImage / usePaddedGrad): the image is first copied into a zero-padded buffer
//   pad[c][r][s] (Hp x Wp per channel, r = ih + ph, s = iw + pw, covering exactly the rows and columns the
//   windows reach), or used in place when no window leaves it. Then cols[k][p] = pad[tOff[p] + kOff[k]] with
//   tOff[p] = oh*sh*Wp + ow*sw and kOff[k] = c*Hp*Wp + kh*dh*Wp + kw*dw: no bounds checks, and runs of 8
//   contiguous offsets move as two v128. The checked code below is the fallback when the padded image does
//   not fit the workspace's pad area (PAD_FLOATS).

import { fmadd } from "./simd";

const NR: i32 = 8;
const NCT: i32 = 4096; // must equal gemm.ts NC (table capacity)

let gX: usize = 0;
let gH: i32 = 0;
let gW: i32 = 0;
let gKH: i32 = 1;
let gKW: i32 = 1;
let gSh: i32 = 1;
let gSw: i32 = 1;
let gPh: i32 = 0;
let gPw: i32 = 0;
let gDh: i32 = 1;
let gDw: i32 = 1;
let gOW: i32 = 1;
/** Gather mode: pad buffer (or the image itself), its row stride and channel stride, in floats. */
let gGather: bool = false;
let gP: usize = 0;
let gWp: i32 = 0;
let gHWp: i32 = 0;
/** Scatter (input gradient): offset tables for all pixels (at gScatterTab) and taps (+NCT), or 0. */
let gScatterTab: usize = 0;

/** Floats of the pad area in each GEMM workspace (gemm.ts WS_PAD). */
export const PAD_FLOATS: i32 = 512 * 1024;

/** Sets the image (one sample, one group: first channel at x) and the convolution geometry. */
export function setConvGeom(
  x: usize,
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
  OW: i32,
): void {
  gX = x;
  gH = H;
  gW = W;
  gKH = KH;
  gKW = KW;
  gSh = sh;
  gSw = sw;
  gPh = ph;
  gPw = pw;
  gDh = dh;
  gDw = dw;
  gOW = OW;
  gGather = false;
  gScatterTab = 0;
}

/** Rows and columns of the padded buffer: every position a window of an output pixel reaches. */
function paddedRows(OH: i32): i32 {
  return (OH - 1) * gSh + (gKH - 1) * gDh + 1;
}

function paddedCols(): i32 {
  return (gOW - 1) * gSw + (gKW - 1) * gDw + 1;
}

/**
 * Switches the packers to gather mode for C channels of the image set by setConvGeom: in place when no
 * window leaves the image, else through a zero-padded copy in `pad` (PAD_FLOATS floats). Stays in checked
 * mode when the copy would not fit.
 */
export function usePaddedImage(C: i32, OH: i32, pad: usize): void {
  const Hp = paddedRows(OH);
  const Wp = paddedCols();
  if (gPh == 0 && gPw == 0 && Hp <= gH && Wp <= gW) {
    gGather = true;
    gP = gX;
    gWp = gW;
    gHWp = gH * gW;
    return;
  }
  if (C * Hp * Wp > PAD_FLOATS) return;
  gGather = true;
  gP = pad;
  gWp = Wp;
  gHWp = Hp * Wp;
  const rows = min<i32>(gH, Hp - gPh);
  const cols = min<i32>(gW, Wp - gPw);
  for (let c = 0; c < C; c++) {
    const dst = pad + <usize>(c * gHWp * 4);
    const src = gX + <usize>(c * gH * gW * 4);
    // Top padding, then each image row with its left/right padding, then bottom padding.
    memory.fill(dst, 0, <usize>(gPh * Wp * 4));
    for (let r = 0; r < rows; r++) {
      const d = dst + <usize>((r + gPh) * Wp * 4);
      memory.fill(d, 0, <usize>(gPw * 4));
      memory.copy(d + <usize>(gPw * 4), src + <usize>(r * gW * 4), <usize>(cols * 4));
      memory.fill(d + <usize>((gPw + cols) * 4), 0, <usize>((Wp - gPw - cols) * 4));
    }
    const used = gPh + rows;
    memory.fill(dst + <usize>(used * Wp * 4), 0, <usize>((Hp - used) * Wp * 4));
  }
}

/**
 * Gather mode for the col2im scatter (input gradient): tiles are added into a zeroed padded buffer in
 * `pad`; foldPaddedGrad then adds its interior into the image. Returns false (checked mode) if it does not fit.
 * When the OH*OW pixel and K tap offsets fit `tables` (the GEMM's tables, unused by the strided B packer of
 * this call) they are computed once here instead of per tile.
 */
export function usePaddedGrad(C: i32, OH: i32, K: i32, pad: usize, tables: usize): bool {
  const Hp = paddedRows(OH);
  const Wp = paddedCols();
  if (C * Hp * Wp > PAD_FLOATS) return false;
  gGather = true;
  gP = pad;
  gWp = Wp;
  gHWp = Hp * Wp;
  memory.fill(pad, 0, <usize>(C * Hp * Wp * 4));
  const P = OH * gOW;
  if (P <= NCT && K <= NCT) {
    gScatterTab = tables;
    pixelOffsets(tables, 0, P);
    tapOffsets(tables + <usize>(NCT * 4), 0, K);
  }
  return true;
}

/** image (set by setConvGeom) += interior of the padded gradient, for C channels. */
export function foldPaddedGrad(C: i32): void {
  const rows = min<i32>(gH, gHWp / gWp - gPh);
  const cols = min<i32>(gW, gWp - gPw);
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < rows; r++) {
      const d = gX + <usize>((c * gH + r) * gW * 4);
      const s = gP + <usize>((c * gHWp + (r + gPh) * gWp + gPw) * 4);
      let i = 0;
      for (; i + 4 <= cols; i += 4) {
        const o = <usize>(i * 4);
        v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
      }
      for (; i < cols; i++) {
        const o = <usize>(i * 4);
        store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o));
      }
    }
  }
}

/** tOff[t] for output pixels p0 .. p0+n-1 (gather mode). */
function pixelOffsets(tab: usize, p0: i32, n: i32): void {
  let oh = p0 / gOW;
  let ow = p0 - oh * gOW;
  const rowStep = gSh * gWp;
  let base = oh * rowStep;
  for (let t = 0; t < n; t++) {
    store<i32>(tab + <usize>(t * 4), base + ow * gSw);
    if (++ow == gOW) {
      ow = 0;
      base += rowStep;
    }
  }
}

/** kOff[t] for rows k0 .. k0+n-1 of the im2col matrix (gather mode). */
function tapOffsets(tab: usize, k0: i32, n: i32): void {
  const KK = gKH * gKW;
  let c = k0 / KK;
  const rem = k0 - c * KK;
  let kh = rem / gKW;
  let kw = rem - kh * gKW;
  for (let t = 0; t < n; t++) {
    store<i32>(tab + <usize>(t * 4), c * gHWp + kh * gDh * gWp + kw * gDw);
    if (++kw == gKW) {
      kw = 0;
      if (++kh == gKH) {
        kh = 0;
        c++;
      }
    }
  }
}

/**
 * Gather-mode B packing shared by both packers: Bp[q*8*rows + r*8 + jj] = pad[rowOff[r] + colOff[8q+jj]]
 * for `rows` rows and `cols` columns (columns past `cols` are zero).
 */
function packGather(dst: usize, rowOff: usize, rows: i32, colOff: usize, cols: i32): void {
  const P = gP;
  for (let q = 0; q < cols; q += NR) {
    let d = dst + <usize>(q * rows * 4);
    const co = colOff + <usize>(q * 4);
    if (q + NR <= cols) {
      const c0 = load<i32>(co);
      if (load<i32>(co, 28) - c0 == 7) {
        // Eight consecutive floats (the same output row with stride 1, or 8 taps along a kernel row).
        for (let r = 0; r < rows; r++) {
          const s = P + <usize>((load<i32>(rowOff + <usize>(r * 4)) + c0) * 4);
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
          d += 32;
        }
        continue;
      }
      const c1 = load<i32>(co, 4) - c0;
      const c2 = load<i32>(co, 8) - c0;
      const c3 = load<i32>(co, 12) - c0;
      const c4 = load<i32>(co, 16) - c0;
      const c5 = load<i32>(co, 20) - c0;
      const c6 = load<i32>(co, 24) - c0;
      const c7 = load<i32>(co, 28) - c0;
      for (let r = 0; r < rows; r++) {
        const s = P + <usize>((load<i32>(rowOff + <usize>(r * 4)) + c0) * 4);
        let v = v128.load32_zero(s);
        v = f32x4.replace_lane(v, 1, load<f32>(s + <usize>(c1 * 4)));
        v = f32x4.replace_lane(v, 2, load<f32>(s + <usize>(c2 * 4)));
        v = f32x4.replace_lane(v, 3, load<f32>(s + <usize>(c3 * 4)));
        let u = v128.load32_zero(s + <usize>(c4 * 4));
        u = f32x4.replace_lane(u, 1, load<f32>(s + <usize>(c5 * 4)));
        u = f32x4.replace_lane(u, 2, load<f32>(s + <usize>(c6 * 4)));
        u = f32x4.replace_lane(u, 3, load<f32>(s + <usize>(c7 * 4)));
        v128.store(d, v);
        v128.store(d, u, 16);
        d += 32;
      }
      continue;
    }
    const w = cols - q;
    for (let r = 0; r < rows; r++) {
      const s = P + <usize>(load<i32>(rowOff + <usize>(r * 4)) * 4);
      for (let jj = 0; jj < NR; jj++) {
        const v: f32 = jj < w ? load<f32>(s + <usize>(load<i32>(co + <usize>(jj * 4)) * 4)) : 0;
        store<f32>(d + <usize>(jj * 4), v);
      }
      d += 32;
    }
  }
}

/** First im2col row (tap) that row 0 of the A operand stands for (packAIm2col): a thread's row range. */
let gARow0: i32 = 0;

export function setIm2colRow0(r0: i32): void {
  gARow0 = r0;
}

/**
 * Packs rows [i0, i0+mc) (taps gARow0+i0..) x columns [pc, pc+kc) (output pixels) of cols into A panels
 * (gemm.ts layout: Ap[p*5*kc + k*5 + r]); rows past M are zero.
 */
export function packAIm2col(dst: usize, M: i32, i0: i32, mc: i32, pc: i32, kc: i32, tables: usize): void {
  const rowsAll = min<i32>(mc, M - i0);
  const tPix = tables;
  const tTap = tables + <usize>(NCT * 4);
  if (gGather) {
    pixelOffsets(tPix, pc, kc);
    tapOffsets(tTap, gARow0 + i0, rowsAll);
    for (let p = 0; p < mc; p += 5) {
      const rows = min<i32>(5, rowsAll - p);
      let d = dst + <usize>(p * kc * 4);
      if (rows == 5) {
        const tp = tTap + <usize>(p * 4);
        const s0 = gP + <usize>(load<i32>(tp) * 4);
        const s1 = gP + <usize>(load<i32>(tp, 4) * 4);
        const s2 = gP + <usize>(load<i32>(tp, 8) * 4);
        const s3 = gP + <usize>(load<i32>(tp, 12) * 4);
        const s4 = gP + <usize>(load<i32>(tp, 16) * 4);
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o0 = load<i32>(tPix + <usize>(k * 4));
          if (load<i32>(tPix + <usize>(k * 4), 12) - o0 != 3) {
            for (let kk = 0; kk < 4; kk++) {
              const o = <usize>(load<i32>(tPix + <usize>((k + kk) * 4)) * 4);
              store<f32>(d, load<f32>(s0 + o));
              store<f32>(d, load<f32>(s1 + o), 4);
              store<f32>(d, load<f32>(s2 + o), 8);
              store<f32>(d, load<f32>(s3 + o), 12);
              store<f32>(d, load<f32>(s4 + o), 16);
              d += 20;
            }
            continue;
          }
          // Four contiguous pixels: a 4x4 transpose of taps 0-3 plus the fifth tap lane by lane.
          const o = <usize>(o0 * 4);
          const a0 = v128.load(s0 + o);
          const a1 = v128.load(s1 + o);
          const a2 = v128.load(s2 + o);
          const a3 = v128.load(s3 + o);
          const a4 = v128.load(s4 + o);
          const u0 = f32x4.shuffle(a0, a1, 0, 4, 1, 5);
          const u1 = f32x4.shuffle(a0, a1, 2, 6, 3, 7);
          const u2 = f32x4.shuffle(a2, a3, 0, 4, 1, 5);
          const u3 = f32x4.shuffle(a2, a3, 2, 6, 3, 7);
          v128.store(d, f32x4.shuffle(u0, u2, 0, 1, 4, 5));
          v128.store32_lane(d, a4, 0, 16);
          v128.store(d, f32x4.shuffle(u0, u2, 2, 3, 6, 7), 20);
          v128.store32_lane(d, a4, 1, 36);
          v128.store(d, f32x4.shuffle(u1, u3, 0, 1, 4, 5), 40);
          v128.store32_lane(d, a4, 2, 56);
          v128.store(d, f32x4.shuffle(u1, u3, 2, 3, 6, 7), 60);
          v128.store32_lane(d, a4, 3, 76);
          d += 80;
        }
        for (; k < kc; k++) {
          const o = <usize>(load<i32>(tPix + <usize>(k * 4)) * 4);
          store<f32>(d, load<f32>(s0 + o));
          store<f32>(d, load<f32>(s1 + o), 4);
          store<f32>(d, load<f32>(s2 + o), 8);
          store<f32>(d, load<f32>(s3 + o), 12);
          store<f32>(d, load<f32>(s4 + o), 16);
          d += 20;
        }
        continue;
      }
      for (let k = 0; k < kc; k++) {
        const o = load<i32>(tPix + <usize>(k * 4));
        for (let r = 0; r < 5; r++) {
          let v: f32 = 0;
          if (r < rows) v = load<f32>(gP + <usize>((load<i32>(tTap + <usize>((p + r) * 4)) + o) * 4));
          store<f32>(d + <usize>(r * 4), v);
        }
        d += 20;
      }
    }
    return;
  }
  // Checked fallback: bounds test per element.
  const KK = gKH * gKW;
  const H = gH;
  const W = gW;
  for (let p = 0; p < mc; p += 5) {
    const d = dst + <usize>(p * kc * 4);
    for (let r = 0; r < 5; r++) {
      const row = gARow0 + i0 + p + r;
      const real = p + r < rowsAll;
      const c = row / KK;
      const rem = row - c * KK;
      const kh = rem / gKW;
      const khd = kh * gDh;
      const kwd = (rem - kh * gKW) * gDw;
      const xc = gX + <usize>(c * H * W * 4);
      let oh = pc / gOW;
      let ow = pc - oh * gOW;
      for (let k = 0; k < kc; k++) {
        let v: f32 = 0;
        if (real) {
          const ih = oh * gSh - gPh + khd;
          const iw = ow * gSw - gPw + kwd;
          if (<u32>ih < <u32>H && <u32>iw < <u32>W) v = load<f32>(xc + <usize>((ih * W + iw) * 4));
        }
        store<f32>(d + <usize>((k * 5 + r) * 4), v);
        if (++ow == gOW) {
          ow = 0;
          oh++;
        }
      }
    }
  }
}

export function setConvImage(x: usize): void {
  gX = x;
}

export function packBIm2col(dst: usize, pc: i32, kc: i32, jc: i32, nc: i32, tables: usize): void {
  if (gGather) {
    const tPix = tables;
    const tTap = tables + <usize>(NCT * 4);
    pixelOffsets(tPix, jc, nc);
    tapOffsets(tTap, pc, kc);
    packGather(dst, tTap, kc, tPix, nc);
    return;
  }
  const tIh = tables;
  const tIw = tables + <usize>(NCT * 4);
  const tFlag = tables + <usize>(2 * NCT * 4);
  const H = gH;
  const W = gW;
  let oh = jc / gOW;
  let ow = jc - oh * gOW;
  for (let t = 0; t < nc; t++) {
    store<i32>(tIh + <usize>(t * 4), oh * gSh - gPh);
    store<i32>(tIw + <usize>(t * 4), ow * gSw - gPw);
    if (++ow == gOW) {
      ow = 0;
      oh++;
    }
  }
  for (let q = 0; q < nc; q += NR) {
    const full =
      q + NR <= nc && gSw == 1 && load<i32>(tIh + <usize>(q * 4)) == load<i32>(tIh + <usize>((q + 7) * 4));
    store<i32>(tFlag + <usize>((q >> 3) * 4), full ? 1 : 0);
  }
  const KK = gKH * gKW;
  const HW = H * W;
  let c = pc / KK;
  const rem = pc - c * KK;
  let kh = rem / gKW;
  let kw = rem - kh * gKW;
  const panelBytes = <usize>(kc * 32);
  for (let k = 0; k < kc; k++) {
    const xc = gX + <usize>(c * HW * 4);
    const khd = kh * gDh;
    const kwd = kw * gDw;
    let d = dst + <usize>(k * 32);
    for (let q = 0; q < nc; q += NR) {
      if (load<i32>(tFlag + <usize>((q >> 3) * 4)) != 0) {
        const ih = load<i32>(tIh + <usize>(q * 4)) + khd;
        const iw = load<i32>(tIw + <usize>(q * 4)) + kwd;
        if (<u32>ih < <u32>H && iw >= 0 && iw + NR <= W) {
          const s = xc + <usize>((ih * W + iw) * 4);
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
          d += panelBytes;
          continue;
        }
      }
      const w = min<i32>(NR, nc - q);
      for (let jj = 0; jj < NR; jj++) {
        let v: f32 = 0;
        if (jj < w) {
          const ih = load<i32>(tIh + <usize>((q + jj) * 4)) + khd;
          const iw = load<i32>(tIw + <usize>((q + jj) * 4)) + kwd;
          if (<u32>ih < <u32>H && <u32>iw < <u32>W) v = load<f32>(xc + <usize>((ih * W + iw) * 4));
        }
        store<f32>(d + <usize>(jj * 4), v);
      }
      d += panelBytes;
    }
    if (++kw == gKW) {
      kw = 0;
      if (++kh == gKH) {
        kh = 0;
        c++;
      }
    }
  }
}

export function packBIm2colT(dst: usize, pc: i32, kc: i32, jc: i32, nc: i32, tables: usize): void {
  if (gGather) {
    const tPix = tables;
    const tTap = tables + <usize>(NCT * 4);
    pixelOffsets(tPix, pc, kc);
    tapOffsets(tTap, jc, nc);
    packGather(dst, tPix, kc, tTap, nc);
    return;
  }
  const tC = tables;
  const tKh = tables + <usize>(NCT * 4);
  const tKw = tables + <usize>(2 * NCT * 4);
  const H = gH;
  const W = gW;
  const KK = gKH * gKW;
  const HW = H * W;
  let c = jc / KK;
  const rem = jc - c * KK;
  let kh = rem / gKW;
  let kw = rem - kh * gKW;
  for (let t = 0; t < nc; t++) {
    store<i32>(tC + <usize>(t * 4), c * HW);
    store<i32>(tKh + <usize>(t * 4), kh * gDh);
    store<i32>(tKw + <usize>(t * 4), kw * gDw);
    if (++kw == gKW) {
      kw = 0;
      if (++kh == gKH) {
        kh = 0;
        c++;
      }
    }
  }
  const oh0 = pc / gOW;
  const ow0 = pc - oh0 * gOW;
  for (let q = 0; q < nc; q += NR) {
    const w = min<i32>(NR, nc - q);
    let d = dst + <usize>(q * kc * 4);
    let oh = oh0;
    let ow = ow0;
    for (let p = 0; p < kc; p++) {
      const ihb = oh * gSh - gPh;
      const iwb = ow * gSw - gPw;
      for (let jj = 0; jj < NR; jj++) {
        let v: f32 = 0;
        if (jj < w) {
          const t = <usize>((q + jj) * 4);
          const ih = ihb + load<i32>(tKh + t);
          const iw = iwb + load<i32>(tKw + t);
          if (<u32>ih < <u32>H && <u32>iw < <u32>W) {
            v = load<f32>(gX + <usize>((load<i32>(tC + t) + ih * W + iw) * 4));
          }
        }
        store<f32>(d + <usize>(jj * 4), v);
      }
      d += 32;
      if (++ow == gOW) {
        ow = 0;
        oh++;
      }
    }
  }
}

/** image[k -> (c,kh,kw)][p -> (oh,ow)] += alpha * tile[r][jj] for rows i.. (mr) and columns j.. (nr). */
export function scatterTileCol2im(tile: usize, i: i32, j: i32, mr: i32, nr: i32, alpha: f32): void {
  if (gGather) {
    scatterTileGather(tile, i, j, mr, nr, alpha);
    return;
  }
  const ihb = tile + 160;
  const iwb = tile + 192;
  const H = gH;
  const W = gW;
  for (let jj = 0; jj < nr; jj++) {
    const p = j + jj;
    const oh = p / gOW;
    const ow = p - oh * gOW;
    store<i32>(ihb + <usize>(jj * 4), oh * gSh - gPh);
    store<i32>(iwb + <usize>(jj * 4), ow * gSw - gPw);
  }
  const KK = gKH * gKW;
  for (let r = 0; r < mr; r++) {
    const k = i + r;
    const c = k / KK;
    const rem = k - c * KK;
    const kh = rem / gKW;
    const kw = rem - kh * gKW;
    const base = gX + <usize>(c * H * W * 4);
    const khd = kh * gDh;
    const kwd = kw * gDw;
    const t = tile + <usize>(r * 32);
    for (let jj = 0; jj < nr; jj++) {
      const ih = load<i32>(ihb + <usize>(jj * 4)) + khd;
      const iw = load<i32>(iwb + <usize>(jj * 4)) + kwd;
      if (<u32>ih < <u32>H && <u32>iw < <u32>W) {
        const a = base + <usize>((ih * W + iw) * 4);
        store<f32>(a, load<f32>(a) + alpha * load<f32>(t + <usize>(jj * 4)));
      }
    }
  }
}

/** Gather-mode scatterTileCol2im: adds into the padded gradient without bounds checks. */
function scatterTileGather(tile: usize, i: i32, j: i32, mr: i32, nr: i32, alpha: f32): void {
  let pix = tile + 160;
  let taps = tile + 192;
  if (gScatterTab != 0) {
    pix = gScatterTab + <usize>(j * 4);
    taps = gScatterTab + <usize>((NCT + i) * 4);
  } else {
    pixelOffsets(pix, j, nr);
    tapOffsets(taps, i, mr);
  }
  const P = gP;
  const p0 = load<i32>(pix);
  if (nr == NR && load<i32>(pix, 28) - p0 == 7) {
    const va = f32x4.splat(alpha);
    for (let r = 0; r < mr; r++) {
      const a = P + <usize>((load<i32>(taps + <usize>(r * 4)) + p0) * 4);
      const t = tile + <usize>(r * 32);
      v128.store(a, fmadd(va, v128.load(t), v128.load(a)));
      v128.store(a, fmadd(va, v128.load(t, 16), v128.load(a, 16)), 16);
    }
    return;
  }
  for (let r = 0; r < mr; r++) {
    const base = P + <usize>(load<i32>(taps + <usize>(r * 4)) * 4);
    const t = tile + <usize>(r * 32);
    for (let jj = 0; jj < nr; jj++) {
      const a = base + <usize>(load<i32>(pix + <usize>(jj * 4)) * 4);
      store<f32>(a, load<f32>(a) + alpha * load<f32>(t + <usize>(jj * 4)));
    }
  }
}
