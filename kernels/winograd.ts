// Winograd convolution F(m x m, r x r) for stride-1, dilation-1, ungrouped conv2d forward, with the
// variants (m, r) = (2, 3) (4x4 input tiles), (4, 3) and (2, 5) (6x6 input tiles: t = m + r - 1). The
// multiplies of an r x r conv become t*t independent GEMMs [O x C] * [C x tiles], one per transform position
// xi, which run on gemm.ts's micro-kernels (micro5x8 / micro2x8) over operands written straight into their
// packed panel layouts. One driver serves all three; only the three transforms (weights G g G^T, input
// B^T d B, output A^T M A) depend on (m, r). F(4x4, 3x3) and F(2x2, 5x5) use the same interpolation points
// (0, 1, -1, 2, -2, infinity), hence the same B^T: F(2x2, 5x5) has its own G (6x5) and A^T (2x6) only.
// The input gradient of such a conv is the same kind of conv (weights transposed and rotated by 180
// degrees, padding r - 1 - p), so it runs here too, reading the forward weights in that order.
//
// Memory layout (floats; NCHW activations, OIHW weights as in conv.ts)
// - Output tiles: tile (n, th, tw) covers y[n][.][th*m .. th*m+m-1][tw*m .. tw*m+m-1] (clipped at the
//   right/bottom border); its input tile is the t x t window starting at x row th*m - ph, column tw*m - pw
//   (zero outside the image). Tiles are numbered T = (n*tilesH + th)*tilesW + tw over the whole batch.
// - Transformed weights U (winogradWeights): per xi, the O x C matrix (G g G^T)[xi] of every (o, c) as
//   gemm.ts A panels (5 rows of O per panel, k = c; rows past O zero): U[xi] starts at byte
//   xi*uXiStride(O, C), element (o, c) at float (o/5)*5*C + c*5 + o%5 of it.
// - Work is split in units = (tile block b, output-channel chunk k): tiles [b*TB, b*TB+TB) and output
//   channels [k*ocSize, k*ocSize+ocSize) (TB a multiple of 8, ocSize of 5), block-major. A unit runs, in
//   its thread's workspace `ws` (winogradWorkspaceBytes):
//     V block  [xi][q][c][8]   input transforms as gemm.ts B panels (8 tiles per panel q), xi stride skewed
//     M block  [xi][q][o][8]   the GEMM results, each 5x8 micro-tile stored by the micro-kernel in place
//     band     [rows][BW]      zero-padded input rows of up to bandTileRows tile rows of one image (column 0
//                              is input column -pw; BW = bandWidth)
//     scratch  [104][4]        transform temporaries (lanes = 4 tiles or 4 output channels)
//     table    [TB/4] i32      per group of 4 tiles: y offset of their top-left pixel, or -1 (per-lane path)
//     U group  [xi][4][c][5]   fused mode only: the transformed weights of FUSED_ROWS output channels
//   the input transform (skipped when the previous unit of this call had the same block), the t*t GEMMs,
//   then the output transform A^T M A + bias into y.
// - Transforms are vectorised across 4 tiles (one f32x4 lane per tile): loads from the band and stores to
//   y are (de)interleaved with shuffles; tiles that straddle a tile row, a panel or the image border take a
//   per-lane path through the scratch vectors.

import { micro2x8, micro5x8 } from "./gemm";

const MR: i32 = 5;
const NR: i32 = 8;
/** Rows of U per L2 block of the GEMM (as gemm.ts MC). */
const MCW: i32 = 120;
/**
 * Transform temporaries: 2 x 36 vectors (the input transform's rows and its per-lane output); the weight
 * transform needs ZERO_BYTES + 91 vectors (r = 5: 25 taps and 30 of G g, then 36 per-lane outputs), the
 * output transform 24 + 16 vectors.
 */
const SCRATCH_BYTES: i32 = 104 * 16;
/** Zeros that stand for the taps of output channels past O (25 floats, rounded up to whole vectors). */
const ZERO_BYTES: i32 = 128;
/** Offsets in the scratch of the weight transform's temporaries and of its per-lane output vectors. */
const WT_TMP: i32 = ZERO_BYTES;
const WT_OUT: i32 = ZERO_BYTES + 55 * 16;

function roundUp(n: i32, k: i32): i32 {
  return ((n + k - 1) / k) * k;
}

/**
 * Byte stride between the t*t matrices of one operand: at least `bytes`, an odd number of cache lines, so
 * that the t*t streams a transform reads or writes together fall in different L1 sets (with a multiple of
 * 4 KiB all 16/36 shared one set: the weight transform of 256 channels took 1.0 ms instead of 0.5).
 */
function xiSkew(bytes: i32): i32 {
  const lines = (bytes + 63) >> 6;
  return ((lines & 1) == 0 ? lines + 1 : lines) << 6;
}

/** Byte stride between the transformed weight matrices U[xi]. */
function uXiStride(O: i32, C: i32): i32 {
  return xiSkew(roundUp(O, MR) * C * 4);
}

/** Byte stride between the V block's matrices for tbp tile columns. */
function vXiStride(C: i32, tbp: i32): i32 {
  return xiSkew(tbp * C * 4);
}

/** Byte stride between the M block's matrices for ocSize rows and tbp tile columns. */
function mXiStride(ocSize: i32, tbp: i32): i32 {
  return xiSkew(tbp * ocSize * 4);
}

/**
 * Floats of one band row (see layout): a group of 4 tiles starting at tile tw reads columns up to
 * (tw + 4)*m + 3 < (tilesW + 3)*m + 4, which also holds the input row and its padding.
 */
function bandWidth(OW: i32, m: i32): i32 {
  const tilesW = (OW + m - 1) / m;
  return roundUp(m * (tilesW + 3) + 4, 4);
}

/** Bytes a band should stay within: each band row is read by t/m tile rows, best from L1. */
const BAND_BYTES: i32 = 32 << 10;

/** Tile rows per band: as many as fit BAND_BYTES, at least one. */
function bandTileRows(OW: i32, m: i32, t: i32): i32 {
  return max<i32>(1, (BAND_BYTES / (bandWidth(OW, m) * 4) - (t - m)) / m);
}

/** Bytes of the band. */
function bandBytes(OW: i32, m: i32, t: i32): i32 {
  return (bandTileRows(OW, m, t) * m + t - m) * bandWidth(OW, m) * 4;
}

/**
 * Bytes of workspace a unit of winogradConv2dForward needs for blocks of TB tiles and ocSize channels
 * (fused: with room for the on-the-fly weight transform).
 */
export function winogradWorkspaceBytes(
  C: i32,
  ocSize: i32,
  TB: i32,
  OW: i32,
  m: i32,
  r: i32,
  fused: i32,
): i32 {
  const t = m + r - 1;
  const tbp = roundUp(TB, NR);
  const blocks = t * t * (vXiStride(C, tbp) + mXiStride(ocSize, tbp));
  const wb = fused != 0 ? t * t * wXiStride(C) : 0;
  return blocks + wb + bandBytes(OW, m, t) + SCRATCH_BYTES + tbp + 64 + 256;
}

/** Floats of the transformed weights (winogradWeights output). */
export function winogradWeightsSize(O: i32, C: i32, m: i32, r: i32): i32 {
  const t = m + r - 1;
  return (t * t * uXiStride(O, C)) >> 2;
}

// ---- weight transform: U = G g G^T, 4 output channels at once (one per f32x4 lane) ----

/**
 * G of F(2x2, 3x3) applied to the 3 vectors (a, b, c): 4 results to dst + i*stride.
 * G rows: (1,0,0) (1/2,1/2,1/2) (1/2,-1/2,1/2) (0,0,1).
 */
function g4(a: v128, b: v128, c: v128, dst: usize, stride: usize): void {
  const half = f32x4.splat(0.5);
  const s = f32x4.mul(half, f32x4.add(a, c));
  const h = f32x4.mul(half, b);
  v128.store(dst, a);
  v128.store(dst + stride, f32x4.add(s, h));
  v128.store(dst + 2 * stride, f32x4.sub(s, h));
  v128.store(dst + 3 * stride, c);
}

/**
 * G of F(4x4, 3x3) applied to the 3 vectors (a, b, c): 6 results to dst + i*stride.
 * G rows: (1/4,0,0) (-1/6,-1/6,-1/6) (-1/6,1/6,-1/6) (1/24,1/12,1/6) (1/24,-1/12,1/6) (0,0,1).
 */
function g6(a: v128, b: v128, c: v128, dst: usize, stride: usize): void {
  const s = f32x4.mul(f32x4.splat(<f32>(-1.0 / 6.0)), f32x4.add(a, c));
  const h = f32x4.mul(f32x4.splat(<f32>(-1.0 / 6.0)), b);
  const r = f32x4.add(
    f32x4.mul(f32x4.splat(<f32>(1.0 / 24.0)), a),
    f32x4.mul(f32x4.splat(<f32>(1.0 / 6.0)), c),
  );
  const q = f32x4.mul(f32x4.splat(<f32>(1.0 / 12.0)), b);
  v128.store(dst, f32x4.mul(f32x4.splat(0.25), a));
  v128.store(dst + stride, f32x4.add(s, h));
  v128.store(dst + 2 * stride, f32x4.sub(s, h));
  v128.store(dst + 3 * stride, f32x4.add(r, q));
  v128.store(dst + 4 * stride, f32x4.sub(r, q));
  v128.store(dst + 5 * stride, c);
}

/**
 * G of F(2x2, 5x5) applied to the 5 vectors (a..e): 6 results to dst + i*stride. G rows (the points of
 * F(4x4, 3x3) with its scale factors, on polynomials of degree 4): (1/4,0,0,0,0) -1/6*(1,1,1,1,1)
 * -1/6*(1,-1,1,-1,1) 1/24*(1,2,4,8,16) 1/24*(1,-2,4,-8,16) (0,0,0,0,1).
 */
function g65(a: v128, b: v128, c: v128, d: v128, e: v128, dst: usize, stride: usize): void {
  const sixth = f32x4.splat(<f32>(-1.0 / 6.0));
  const ev = f32x4.mul(sixth, f32x4.add(f32x4.add(a, c), e));
  const od = f32x4.mul(sixth, f32x4.add(b, d));
  const ev2 = f32x4.add(
    f32x4.add(f32x4.mul(f32x4.splat(<f32>(1.0 / 24.0)), a), f32x4.mul(f32x4.splat(<f32>(1.0 / 6.0)), c)),
    f32x4.mul(f32x4.splat(<f32>(2.0 / 3.0)), e),
  );
  const od2 = f32x4.add(
    f32x4.mul(f32x4.splat(<f32>(1.0 / 12.0)), b),
    f32x4.mul(f32x4.splat(<f32>(1.0 / 3.0)), d),
  );
  v128.store(dst, f32x4.mul(f32x4.splat(0.25), a));
  v128.store(dst + stride, f32x4.add(ev, od));
  v128.store(dst + 2 * stride, f32x4.sub(ev, od));
  v128.store(dst + 3 * stride, f32x4.add(ev2, od2));
  v128.store(dst + 4 * stride, f32x4.sub(ev2, od2));
  v128.store(dst + 5 * stride, e);
}

/** Lane l of the n vectors at src (16 bytes apart) to dst + i*stride + l*ls. */
function scatterLanes(src: usize, n: i32, dst: usize, stride: usize, ls: usize): void {
  for (let i = 0; i < n; i++) {
    const v = v128.load(src + <usize>(i * 16));
    const d = dst + <usize>i * stride;
    v128.store32_lane(d, v, 0);
    v128.store32_lane(d + ls, v, 1);
    v128.store32_lane(d + 2 * ls, v, 2);
    v128.store32_lane(d + 3 * ls, v, 3);
  }
}

/**
 * U of 4 (o, c) pairs at once, for F(m x m, r x r): lane l reads the r*r taps at src_l (rows of w, or
 * zeros); the t*t vectors go to dst + xi*xiStride. `tmp` holds 55 vectors.
 */
function weightTransform4(
  m: i32,
  r: i32,
  s0: usize,
  s1: usize,
  s2: usize,
  s3: usize,
  tmp: usize,
  dst: usize,
  xiStride: usize,
): void {
  if (r == 5) weightTransform4x5(s0, s1, s2, s3, tmp, dst, xiStride);
  else weightTransform4x3(m, s0, s1, s2, s3, tmp, dst, xiStride);
}

/**
 * U of F(2x2, 5x5) for 4 (o, c) pairs (lane l: the 25 taps at s_l). `tmp` holds the 25 tap vectors, then
 * G g (6 x 5, row i column j at tmp + (25 + 5i + j)*16); G along each of its rows goes to dst.
 */
function weightTransform4x5(
  s0: usize,
  s1: usize,
  s2: usize,
  s3: usize,
  tmp: usize,
  dst: usize,
  xiStride: usize,
): void {
  // Taps 4q..4q+3 of the four lanes transposed so that vector k holds tap k of every lane; the kernel
  // rotated by 180 degrees (input gradient) reads tap 24 - k as tap k.
  for (let q = 0; q < 6; q++) {
    const off = <usize>(q * 16);
    const a0 = v128.load(s0 + off);
    const a1 = v128.load(s1 + off);
    const a2 = v128.load(s2 + off);
    const a3 = v128.load(s3 + off);
    const p0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5);
    const p1 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5);
    const p2 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
    const p3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
    const k = 4 * q;
    v128.store(tapSlot(tmp, k), v128.shuffle<f32>(p0, p1, 0, 1, 4, 5));
    v128.store(tapSlot(tmp, k + 1), v128.shuffle<f32>(p0, p1, 2, 3, 6, 7));
    v128.store(tapSlot(tmp, k + 2), v128.shuffle<f32>(p2, p3, 0, 1, 4, 5));
    v128.store(tapSlot(tmp, k + 3), v128.shuffle<f32>(p2, p3, 2, 3, 6, 7));
  }
  let last = f32x4.splat(load<f32>(s0, 96));
  last = f32x4.replace_lane(last, 1, load<f32>(s1, 96));
  last = f32x4.replace_lane(last, 2, load<f32>(s2, 96));
  last = f32x4.replace_lane(last, 3, load<f32>(s3, 96));
  v128.store(tapSlot(tmp, 24), last);
  // G down each kernel column j (taps j, 5+j, ..., 20+j), then along each row i of G g.
  const mid = tmp + 25 * 16;
  for (let j = 0; j < 5; j++) {
    const col = tmp + <usize>(j * 16);
    g65(
      v128.load(col),
      v128.load(col, 80),
      v128.load(col, 160),
      v128.load(col, 240),
      v128.load(col, 320),
      mid + <usize>(j * 16),
      80,
    );
  }
  for (let i = 0; i < 6; i++) {
    const row = mid + <usize>(i * 80);
    g65(
      v128.load(row),
      v128.load(row, 16),
      v128.load(row, 32),
      v128.load(row, 48),
      v128.load(row, 64),
      dst + <usize>(i * 6) * xiStride,
      xiStride,
    );
  }
}

/** Where tap k of a 5x5 kernel goes in weightTransform4x5's tmp (mirrored when the kernel is rotated). */
function tapSlot(tmp: usize, k: i32): usize {
  return tmp + <usize>((gFlip ? 24 - k : k) * 16);
}

/**
 * U of F(m x m, 3x3) for 4 (o, c) pairs (lane l: the 9 taps at s_l). `tmp` holds 18 vectors: G g (t x 3),
 * then G applied along each of its rows.
 */
function weightTransform4x3(
  m: i32,
  s0: usize,
  s1: usize,
  s2: usize,
  s3: usize,
  tmp: usize,
  dst: usize,
  xiStride: usize,
): void {
  // Taps 0-3 and 4-7 of the four lanes, transposed so that vector k holds tap k of every lane.
  const a0 = v128.load(s0);
  const a1 = v128.load(s1);
  const a2 = v128.load(s2);
  const a3 = v128.load(s3);
  const b0 = v128.load(s0, 16);
  const b1 = v128.load(s1, 16);
  const b2 = v128.load(s2, 16);
  const b3 = v128.load(s3, 16);
  let g8 = f32x4.splat(load<f32>(s0, 32));
  g8 = f32x4.replace_lane(g8, 1, load<f32>(s1, 32));
  g8 = f32x4.replace_lane(g8, 2, load<f32>(s2, 32));
  g8 = f32x4.replace_lane(g8, 3, load<f32>(s3, 32));
  const p0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5);
  const p1 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5);
  const p2 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
  const p3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
  const q0 = v128.shuffle<f32>(b0, b1, 0, 4, 1, 5);
  const q1 = v128.shuffle<f32>(b2, b3, 0, 4, 1, 5);
  const q2 = v128.shuffle<f32>(b0, b1, 2, 6, 3, 7);
  const q3 = v128.shuffle<f32>(b2, b3, 2, 6, 3, 7);
  let g0 = v128.shuffle<f32>(p0, p1, 0, 1, 4, 5);
  let g1 = v128.shuffle<f32>(p0, p1, 2, 3, 6, 7);
  let g2 = v128.shuffle<f32>(p2, p3, 0, 1, 4, 5);
  let g3 = v128.shuffle<f32>(p2, p3, 2, 3, 6, 7);
  const g4v = v128.shuffle<f32>(q0, q1, 0, 1, 4, 5);
  let g5 = v128.shuffle<f32>(q0, q1, 2, 3, 6, 7);
  let g6v = v128.shuffle<f32>(q2, q3, 0, 1, 4, 5);
  let g7 = v128.shuffle<f32>(q2, q3, 2, 3, 6, 7);
  if (gFlip) {
    // The kernel rotated by 180 degrees (input gradient): tap k is tap 8 - k.
    let t = g0;
    g0 = g8;
    g8 = t;
    t = g1;
    g1 = g7;
    g7 = t;
    t = g2;
    g2 = g6v;
    g6v = t;
    t = g3;
    g3 = g5;
    g5 = t;
  }
  // (G g)[i][col] at tmp + (i*3 + col)*16 (G down each kernel column: taps col, 3+col, 6+col), then
  // U[i][j] = sum_col (G g)[i][col] G[j][col].
  if (m == 2) {
    g4(g0, g3, g6v, tmp, 48);
    g4(g1, g4v, g7, tmp + 16, 48);
    g4(g2, g5, g8, tmp + 32, 48);
    for (let i = 0; i < 4; i++) {
      const r = tmp + <usize>(i * 48);
      g4(v128.load(r), v128.load(r, 16), v128.load(r, 32), dst + <usize>(i * 4) * xiStride, xiStride);
    }
  } else {
    g6(g0, g3, g6v, tmp, 48);
    g6(g1, g4v, g7, tmp + 16, 48);
    g6(g2, g5, g8, tmp + 32, 48);
    for (let i = 0; i < 6; i++) {
      const r = tmp + <usize>(i * 48);
      g6(v128.load(r), v128.load(r, 16), v128.load(r, 32), dst + <usize>(i * 6) * xiStride, xiStride);
    }
  }
}

/**
 * Transforms the weights (w: O x C x r x r) of A panels [p0, pEnd) (at most 4: 20 output channels) to
 * dst (panel p at dst + (p - p0)*5*C floats, U[xi] xiStride bytes apart): rows 0-3 of each panel are four
 * lanes stored as one vector, the fifth rows of the panels are one more vector stored lane by lane. Rows
 * past O are zero. `scratch` holds ZERO_BYTES + 91 vectors.
 */
function transformWeightPanels(
  w: usize,
  O: i32,
  C: i32,
  m: i32,
  r: i32,
  p0: i32,
  pEnd: i32,
  dst: usize,
  xiStride: usize,
  scratch: usize,
): void {
  const T2 = (m + r - 1) * (m + r - 1);
  const zero = scratch;
  const tmp = scratch + <usize>WT_TMP;
  const out = scratch + <usize>WT_OUT;
  memory.fill(zero, 0, <usize>ZERO_BYTES);
  // Panel by panel, so that the t*t output streams advance together (few pages at a time).
  for (let p = p0; p < pEnd; p++) {
    const o = p * MR;
    const base = dst + <usize>((p - p0) * MR * C * 4);
    for (let c = 0; c < C; c++) {
      weightTransform4(
        m,
        r,
        rowTaps(w, O, C, o, c, zero),
        rowTaps(w, O, C, o + 1, c, zero),
        rowTaps(w, O, C, o + 2, c, zero),
        rowTaps(w, O, C, o + 3, c, zero),
        tmp,
        base + <usize>(c * MR * 4),
        xiStride,
      );
    }
  }
  // Fifth rows: lane l is panel p0 + l.
  const lanes = pEnd - p0;
  for (let c = 0; c < C; c++) {
    weightTransform4(
      m,
      r,
      rowTaps(w, O, C, p0 * MR + 4, c, zero),
      rowTaps(w, O, C, (p0 + 1) * MR + 4, c, zero),
      rowTaps(w, O, C, (p0 + 2) * MR + 4, c, zero),
      rowTaps(w, O, C, (p0 + 3) * MR + 4, c, zero),
      tmp,
      out,
      16,
    );
    const d = dst + <usize>((c * MR + 4) * 4);
    if (lanes == 4) {
      scatterLanes(out, T2, d, xiStride, <usize>(MR * C * 4));
      continue;
    }
    for (let l = 0; l < lanes; l++) {
      const dl = d + <usize>(l * MR * C * 4);
      for (let xi = 0; xi < T2; xi++) {
        store<f32>(dl + <usize>xi * xiStride, load<f32>(out + <usize>(xi * 16 + l * 4)));
      }
    }
  }
}

/**
 * Transforms the weights into `up` (layout above; `transposed` as setWeightLayout), for units [u0, u1) of
 * groups of four A panels.
 */
export function winogradWeights(
  w: usize,
  O: i32,
  C: i32,
  m: i32,
  r: i32,
  transposed: i32,
  up: usize,
  ws: usize,
  u0: i32,
  u1: i32,
): void {
  setWeightLayout(O, C, r, transposed);
  const panels = (O + MR - 1) / MR;
  const xiStride = <usize>uXiStride(O, C);
  for (let u = u0; u < u1; u++) {
    const p0 = 4 * u;
    transformWeightPanels(
      w,
      O,
      C,
      m,
      r,
      p0,
      min<i32>(panels, p0 + 4),
      up + <usize>(p0 * MR * C * 4),
      xiStride,
      ws,
    );
  }
}

/**
 * How the weight transform reads w, set per call by setWeightLayout: bytes between the taps of consecutive
 * output channels (rows of U) and input channels, and whether the r x r taps are read rotated by 180
 * degrees.
 */
let gRowStride: i32 = 0;
let gColStride: i32 = 36;
let gFlip: bool = false;

/**
 * transposed == 0: w is O x C x r x r (a forward conv). transposed != 0: w is C x O x r x r with the taps
 * rotated (the forward weights of a conv whose input gradient this conv computes: O and C swapped).
 */
function setWeightLayout(O: i32, C: i32, r: i32, transposed: i32): void {
  const taps = r * r * 4;
  gFlip = transposed != 0;
  gRowStride = transposed != 0 ? taps : C * taps;
  gColStride = transposed != 0 ? O * taps : taps;
}

/** Address of the r*r taps of (o, c), or of zeros for rows past O. */
function rowTaps(w: usize, O: i32, C: i32, o: i32, c: i32, zero: usize): usize {
  return o < O ? w + <usize>(o * gRowStride + c * gColStride) : zero;
}

// ---- input transform: V = B^T d B for 4 tiles at once ----

// B^T is an @inline static method (a decorator on a plain function does not parse for prettier): the input
// transform calls it 12 times per 4 tiles, and as a call it cost 10 % of F(2x2,5x5) at 16 -> 20 channels.
class BT {
  /** B^T of F(4x4, 3x3) applied to (z0..z5), results to dst + i*stride. Rows: see inputTransform6. */
  @inline static apply(
    z0: v128,
    z1: v128,
    z2: v128,
    z3: v128,
    z4: v128,
    z5: v128,
    dst: usize,
    stride: usize,
  ): void {
    const four = f32x4.splat(4);
    const five = f32x4.splat(5);
    v128.store(dst, f32x4.add(f32x4.sub(f32x4.mul(four, z0), f32x4.mul(five, z2)), z4));
    v128.store(dst + stride, f32x4.sub(f32x4.add(z3, z4), f32x4.mul(four, f32x4.add(z1, z2))));
    v128.store(dst + 2 * stride, f32x4.add(f32x4.sub(z4, z3), f32x4.mul(four, f32x4.sub(z1, z2))));
    const a = f32x4.sub(z4, z2);
    const b = f32x4.mul(f32x4.splat(2), f32x4.sub(z3, z1));
    v128.store(dst + 3 * stride, f32x4.add(a, b));
    v128.store(dst + 4 * stride, f32x4.sub(a, b));
    v128.store(dst + 5 * stride, f32x4.add(f32x4.sub(f32x4.mul(four, z1), f32x4.mul(five, z3)), z5));
  }
}

/**
 * F(2x2, 3x3) input transform of 4 tiles whose first tile starts at `src` (band rows sw4 bytes apart; tile
 * l starts l*2 columns further): V[i][j] to dst + (4i + j)*xiStride.
 * B^T rows: (1,0,-1,0) (0,1,1,0) (0,-1,1,0) (0,1,0,-1).
 */
function inputTransform4x2(src: usize, sw4: usize, dst: usize, xiStride: usize): void {
  // Row r: d[r][s] (lane l = column 2l+s), then B^T along s: w[r][j].
  let r = src;
  let a = v128.load(r);
  let b = v128.load(r, 16);
  let c = v128.load(r, 8);
  let d = v128.load(r, 24);
  let d0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
  let d1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
  let d2 = v128.shuffle<f32>(c, d, 0, 2, 4, 6);
  let d3 = v128.shuffle<f32>(c, d, 1, 3, 5, 7);
  const w00 = f32x4.sub(d0, d2);
  const w01 = f32x4.add(d1, d2);
  const w02 = f32x4.sub(d2, d1);
  const w03 = f32x4.sub(d1, d3);
  r += sw4;
  a = v128.load(r);
  b = v128.load(r, 16);
  c = v128.load(r, 8);
  d = v128.load(r, 24);
  d0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
  d1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
  d2 = v128.shuffle<f32>(c, d, 0, 2, 4, 6);
  d3 = v128.shuffle<f32>(c, d, 1, 3, 5, 7);
  const w10 = f32x4.sub(d0, d2);
  const w11 = f32x4.add(d1, d2);
  const w12 = f32x4.sub(d2, d1);
  const w13 = f32x4.sub(d1, d3);
  r += sw4;
  a = v128.load(r);
  b = v128.load(r, 16);
  c = v128.load(r, 8);
  d = v128.load(r, 24);
  d0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
  d1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
  d2 = v128.shuffle<f32>(c, d, 0, 2, 4, 6);
  d3 = v128.shuffle<f32>(c, d, 1, 3, 5, 7);
  const w20 = f32x4.sub(d0, d2);
  const w21 = f32x4.add(d1, d2);
  const w22 = f32x4.sub(d2, d1);
  const w23 = f32x4.sub(d1, d3);
  // B^T down the columns, rows 1 and 2 first (they need only rows 1 and 2 of w).
  const x4 = xiStride * 4;
  let o = dst + x4;
  v128.store(o, f32x4.add(w10, w20));
  v128.store(o + xiStride, f32x4.add(w11, w21));
  v128.store(o + 2 * xiStride, f32x4.add(w12, w22));
  v128.store(o + 3 * xiStride, f32x4.add(w13, w23));
  o += x4;
  v128.store(o, f32x4.sub(w20, w10));
  v128.store(o + xiStride, f32x4.sub(w21, w11));
  v128.store(o + 2 * xiStride, f32x4.sub(w22, w12));
  v128.store(o + 3 * xiStride, f32x4.sub(w23, w13));
  v128.store(dst, f32x4.sub(w00, w20));
  v128.store(dst + xiStride, f32x4.sub(w01, w21));
  v128.store(dst + 2 * xiStride, f32x4.sub(w02, w22));
  v128.store(dst + 3 * xiStride, f32x4.sub(w03, w23));
  r += sw4;
  a = v128.load(r);
  b = v128.load(r, 16);
  c = v128.load(r, 8);
  d = v128.load(r, 24);
  d0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
  d1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
  d2 = v128.shuffle<f32>(c, d, 0, 2, 4, 6);
  d3 = v128.shuffle<f32>(c, d, 1, 3, 5, 7);
  o += x4;
  v128.store(o, f32x4.sub(w10, f32x4.sub(d0, d2)));
  v128.store(o + xiStride, f32x4.sub(w11, f32x4.add(d1, d2)));
  v128.store(o + 2 * xiStride, f32x4.sub(w12, f32x4.sub(d2, d1)));
  v128.store(o + 3 * xiStride, f32x4.sub(w13, f32x4.sub(d1, d3)));
}

/**
 * Input transform of 4 6x6 tiles, F(4x4, 3x3) (m = 4) or F(2x2, 5x5) (m = 2), whose first tile starts at
 * `src` (tile l starts m*l columns further): V[i][j] to dst + (6i + j)*xiStride. `tmp` holds 36 vectors.
 * B^T rows: (4,0,-5,0,1,0) (0,-4,-4,1,1,0) (0,4,-4,-1,1,0) (0,-2,-1,2,1,0) (0,2,-1,-2,1,0) (0,4,0,-5,0,1).
 */
function inputTransform6(m: i32, src: usize, sw4: usize, tmp: usize, dst: usize, xiStride: usize): void {
  for (let r = 0; r < 6; r++) {
    const row = src + <usize>r * sw4;
    if (m == 2) {
      // Tiles 2 columns apart: columns 2k and 2k+1 of the four tiles are the even and odd elements of the
      // 8 row elements from column 2k.
      const v0 = v128.load(row);
      const v1 = v128.load(row, 16);
      const v2 = v128.load(row, 32);
      const h0 = v128.load(row, 8);
      const h1 = v128.load(row, 24);
      BT.apply(
        v128.shuffle<f32>(v0, v1, 0, 2, 4, 6),
        v128.shuffle<f32>(v0, v1, 1, 3, 5, 7),
        v128.shuffle<f32>(h0, h1, 0, 2, 4, 6),
        v128.shuffle<f32>(h0, h1, 1, 3, 5, 7),
        v128.shuffle<f32>(v1, v2, 0, 2, 4, 6),
        v128.shuffle<f32>(v1, v2, 1, 3, 5, 7),
        tmp + <usize>(r * 96),
        16,
      );
      continue;
    }
    // Tiles 4 columns apart: a 4x4 transpose gives columns 0-3 of the four tiles; columns 4 and 5 are
    // columns 0 and 1 of the next tile. B^T along the row goes to tmp[r][j] (tmp + (6r + j)*16).
    const v0 = v128.load(row);
    const v1 = v128.load(row, 16);
    const v2 = v128.load(row, 32);
    const v3 = v128.load(row, 48);
    const v4 = v128.load(row, 64);
    const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
    const t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
    const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
    const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
    const s0 = v128.shuffle<f32>(t0, t1, 0, 1, 4, 5);
    const s1 = v128.shuffle<f32>(t0, t1, 2, 3, 6, 7);
    const s2 = v128.shuffle<f32>(t2, t3, 0, 1, 4, 5);
    const s3 = v128.shuffle<f32>(t2, t3, 2, 3, 6, 7);
    const s4 = v128.shuffle<f32>(s0, v4, 1, 2, 3, 4);
    const s5 = v128.shuffle<f32>(s1, v4, 1, 2, 3, 5);
    BT.apply(s0, s1, s2, s3, s4, s5, tmp + <usize>(r * 96), 16);
  }
  // Down each column j.
  for (let j = 0; j < 6; j++) {
    const c = tmp + <usize>(j * 16);
    BT.apply(
      v128.load(c),
      v128.load(c, 96),
      v128.load(c, 192),
      v128.load(c, 288),
      v128.load(c, 384),
      v128.load(c, 480),
      dst + <usize>j * xiStride,
      6 * xiStride,
    );
  }
}

function inputTransform4(
  m: i32,
  r: i32,
  src: usize,
  sw4: usize,
  tmp: usize,
  dst: usize,
  xiStride: usize,
): void {
  if (m + r == 5) inputTransform4x2(src, sw4, dst, xiStride);
  else inputTransform6(m, src, sw4, tmp, dst, xiStride);
}

/**
 * Copies `rows` input rows from row0 of channel plane `xc` into the band (row i at band + i*BW floats, input
 * column 0 at band column pw). Rows outside the image become zeros; the columns outside the image were
 * zeroed once per call (winogradConv2dForward) and are never written.
 */
function fillBand(xc: usize, H: i32, W: i32, row0: i32, pw: i32, rows: i32, BW: i32, band: usize): void {
  for (let r = 0; r < rows; r++) {
    const d = band + <usize>((r * BW + pw) * 4);
    const ih = row0 + r;
    if (ih < 0 || ih >= H) zeroFloats(d, W);
    else copyFloats(d, xc + <usize>(ih * W * 4), W);
  }
}

/**
 * n floats from src to dst. A memory.copy call costs more than the copy itself for the short rows of small
 * images (16 floats: filling a strip per tile row was 19 % of F(2x2,5x5) at 16x16), so rows of 4 to 64
 * floats move as vectors, the last one overlapping.
 */
function copyFloats(dst: usize, src: usize, n: i32): void {
  if (n > 64 || n < 4) {
    memory.copy(dst, src, <usize>(n * 4));
    return;
  }
  const last = <usize>((n - 4) * 4);
  for (let i: usize = 0; i < last; i += 16) v128.store(dst + i, v128.load(src + i));
  v128.store(dst + last, v128.load(src + last));
}

/** n zero floats at dst (as copyFloats). */
function zeroFloats(dst: usize, n: i32): void {
  if (n > 64 || n < 4) {
    memory.fill(dst, 0, <usize>(n * 4));
    return;
  }
  const z = f32x4.splat(0);
  const last = <usize>((n - 4) * 4);
  for (let i: usize = 0; i < last; i += 16) v128.store(dst + i, z);
  v128.store(dst + last, z);
}

/**
 * Stores lanes [0, valid) of the t*t vectors at `out` as V block columns L, L+1, ... of channel c, where
 * they cross a panel boundary: by pairs when L is even (a pair never straddles a panel), else one by one.
 */
function storeLanes(
  out: usize,
  T2: i32,
  vb: usize,
  C: i32,
  c: i32,
  L: i32,
  valid: i32,
  xiStride: usize,
): void {
  if ((L & 1) == 0) {
    for (let l = 0; l < valid; l += 2) {
      const Ll = L + l;
      const dst = vb + <usize>((((Ll >> 3) * C + c) * NR + (Ll & 7)) * 4);
      const both = l + 1 < valid;
      for (let xi = 0; xi < T2; xi++) {
        const v = v128.load(out + <usize>(xi * 16));
        const d = dst + <usize>xi * xiStride;
        if (l == 0) {
          if (both) v128.store64_lane(d, v, 0);
          else v128.store32_lane(d, v, 0);
        } else {
          if (both) v128.store64_lane(d, v, 1);
          else v128.store32_lane(d, v, 2);
        }
      }
    }
    return;
  }
  for (let l = 0; l < valid; l++) {
    const Ll = L + l;
    const dst = vb + <usize>((((Ll >> 3) * C + c) * NR + (Ll & 7)) * 4);
    for (let xi = 0; xi < T2; xi++) {
      store<f32>(dst + <usize>xi * xiStride, load<f32>(out + <usize>(xi * 16 + l * 4)));
    }
  }
}

/**
 * Input transforms of tiles [T0, T0+tb) for all C channels into the V block at vb (B panels), from bands of
 * input rows copied once per channel and band (tile rows overlap by t - m input rows).
 */
function transformInputBlock(
  x: usize,
  C: i32,
  H: i32,
  W: i32,
  ph: i32,
  pw: i32,
  m: i32,
  r: i32,
  tilesH: i32,
  tilesW: i32,
  T0: i32,
  tb: i32,
  vb: usize,
  band: usize,
  BW: i32,
  scratch: usize,
): void {
  const t = m + r - 1;
  const tbp = roundUp(tb, NR);
  const xiStride = <usize>vXiStride(C, tbp);
  const tpi = tilesH * tilesW;
  const tmp = scratch;
  const out = scratch + 36 * 16;
  const sw4 = <usize>(BW * 4);
  const bandRows = bandTileRows(tilesW * m, m, t);
  const T1 = T0 + tb;
  for (let c = 0; c < C; c++) {
    let T = T0;
    while (T < T1) {
      // The band: tile rows [th0, thEnd) of image n, as far as this block reaches.
      const n = T / tpi;
      const th0 = (T - n * tpi) / tilesW;
      const imageEnd = min<i32>(T1, (n + 1) * tpi);
      const thEnd = min<i32>(th0 + bandRows, (imageEnd - n * tpi + tilesW - 1) / tilesW);
      const xc = x + <usize>((n * C + c) * H * W * 4);
      fillBand(xc, H, W, th0 * m - ph, pw, (thEnd - th0) * m + t - m, BW, band);
      const bandEnd = min<i32>(imageEnd, n * tpi + thEnd * tilesW);
      while (T < bandEnd) {
        const rem = T - n * tpi;
        const th = rem / tilesW;
        const tw = rem - th * tilesW;
        const cnt = min<i32>(bandEnd - T, tilesW - tw);
        const src0 = band + <usize>(((th - th0) * m * BW + tw * m) * 4);
        for (let g = 0; g < cnt; g += 4) {
          const L = T - T0 + g;
          const valid = min<i32>(4, cnt - g);
          const src = src0 + <usize>(g * m * 4);
          const col = L & 7;
          if (valid == 4 && col <= 4) {
            const dst = vb + <usize>((((L >> 3) * C + c) * NR + col) * 4);
            inputTransform4(m, r, src, sw4, tmp, dst, xiStride);
          } else {
            inputTransform4(m, r, src, sw4, tmp, out, 16);
            storeLanes(out, t * t, vb, C, c, L, valid, xiStride);
          }
        }
        T += cnt;
      }
    }
  }
  // Panel columns past the block's tiles: finite (their GEMM results are never read).
  if (tb < tbp) {
    const q = tb >> 3;
    for (let xi = 0; xi < t * t; xi++) {
      for (let c = 0; c < C; c++) {
        const p = vb + <usize>xi * xiStride + <usize>((q * C + c) * NR * 4);
        for (let j = tb & 7; j < NR; j++) store<f32>(p + <usize>(j * 4), 0);
      }
    }
  }
}

// ---- the t*t GEMMs ----

/**
 * M block[xi][q][o - o0][jj] = sum_c U[xi][o][c] * V[xi][c][8q + jj] for o in [o0, o1), all tbp columns;
 * every micro-tile lands in place (rows of a 5x8 tile are 32 bytes apart in an M panel).
 */
function multiplyBlock(
  up: usize,
  O: i32,
  C: i32,
  T2: i32,
  o0: i32,
  o1: i32,
  ocSize: i32,
  vb: usize,
  tbp: i32,
  mb: usize,
): void {
  const uStride = <usize>uXiStride(O, C);
  const vStride = <usize>vXiStride(C, tbp);
  const mStride = <usize>mXiStride(ocSize, tbp);
  const mPanel = <usize>(ocSize * NR * 4);
  for (let xi = 0; xi < T2; xi++) {
    const a = up + <usize>xi * uStride;
    const b = vb + <usize>xi * vStride;
    const mx = mb + <usize>xi * mStride;
    for (let ic = o0; ic < o1; ic += MCW) {
      const ie = min<i32>(o1, ic + MCW);
      for (let jr = 0; jr < tbp; jr += NR) {
        const pb = b + <usize>(jr * C * 4);
        const pm = mx + <usize>(jr >> 3) * mPanel;
        for (let ir = ic; ir < ie; ir += MR) {
          const pa = a + <usize>(ir * C * 4);
          const tile = pm + <usize>((ir - o0) * NR * 4);
          if (ie - ir <= 2) micro2x8(C, pa, pb, tile);
          else micro5x8(C, pa, pb, tile);
        }
      }
    }
  }
}

/** Output channels whose weights a fused unit transforms at a time (the 4 A panels of transformWeightPanels). */
const FUSED_ROWS: i32 = 20;

/** Byte stride between the U[xi] of one fused group of FUSED_ROWS output channels. */
function wXiStride(C: i32): i32 {
  return xiSkew(FUSED_ROWS * C * 4);
}

/**
 * multiplyBlock with the weights transformed on the fly, FUSED_ROWS output channels at a time, into `wb`
 * (o0 a multiple of FUSED_ROWS): for a call with a single tile block every U element is used once per
 * block anyway, and this way U never leaves the cache (the whole U of 512 channels is 17/38 MB).
 */
function multiplyBlockFused(
  w: usize,
  O: i32,
  C: i32,
  m: i32,
  r: i32,
  o0: i32,
  o1: i32,
  ocSize: i32,
  vb: usize,
  tbp: i32,
  mb: usize,
  wb: usize,
  scratch: usize,
): void {
  const T2 = (m + r - 1) * (m + r - 1);
  const uStride = <usize>wXiStride(C);
  const vStride = <usize>vXiStride(C, tbp);
  const mStride = <usize>mXiStride(ocSize, tbp);
  const mPanel = <usize>(ocSize * NR * 4);
  for (let g = o0; g < o1; g += FUSED_ROWS) {
    const ge = min<i32>(o1, g + FUSED_ROWS);
    transformWeightPanels(w, O, C, m, r, g / MR, (ge + MR - 1) / MR, wb, uStride, scratch);
    for (let xi = 0; xi < T2; xi++) {
      const a = wb + <usize>xi * uStride;
      const b = vb + <usize>xi * vStride;
      const mx = mb + <usize>xi * mStride;
      for (let jr = 0; jr < tbp; jr += NR) {
        const pb = b + <usize>(jr * C * 4);
        const pm = mx + <usize>(jr >> 3) * mPanel;
        for (let ir = g; ir < ge; ir += MR) {
          const pa = a + <usize>((ir - g) * C * 4);
          const tile = pm + <usize>((ir - o0) * NR * 4);
          if (ge - ir <= 2) micro2x8(C, pa, pb, tile);
          else micro5x8(C, pa, pb, tile);
        }
      }
    }
  }
}

// ---- output transform: Y = A^T M A for 4 tiles at once ----

/** A^T of F(4x4, 3x3) applied to (z0..z5), results to dst + k*stride. Rows: see outputTransform4x4. */
function at6(z0: v128, z1: v128, z2: v128, z3: v128, z4: v128, z5: v128, dst: usize, stride: usize): void {
  const p12 = f32x4.add(z1, z2);
  const m12 = f32x4.sub(z1, z2);
  const p34 = f32x4.add(z3, z4);
  const m34 = f32x4.sub(z3, z4);
  v128.store(dst, f32x4.add(f32x4.add(z0, p12), p34));
  v128.store(dst + stride, f32x4.add(m12, f32x4.mul(f32x4.splat(2), m34)));
  v128.store(dst + 2 * stride, f32x4.add(p12, f32x4.mul(f32x4.splat(4), p34)));
  v128.store(dst + 3 * stride, f32x4.add(f32x4.add(m12, f32x4.mul(f32x4.splat(8), m34)), z5));
}

/** The bias added to an output vector. */
function epilogue(v: v128, bias: v128): v128 {
  return f32x4.add(v, bias);
}

/**
 * F(2x2, 3x3) output transform of 4 tiles (lanes) whose GEMM results are at src + xi*xiStride: Y[k][l] to
 * out + (2k + l)*16. A^T rows: (1,1,1,0) (0,1,-1,-1).
 */
function outputTransform4x2(src: usize, xiStride: usize, out: usize, bias: v128): void {
  // Along each row i: u[i][l].
  let r = src;
  let z0 = v128.load(r);
  let z1 = v128.load(r + xiStride);
  let z2 = v128.load(r + 2 * xiStride);
  let z3 = v128.load(r + 3 * xiStride);
  const u00 = f32x4.add(f32x4.add(z0, z1), z2);
  const u01 = f32x4.sub(f32x4.sub(z1, z2), z3);
  r += 4 * xiStride;
  z0 = v128.load(r);
  z1 = v128.load(r + xiStride);
  z2 = v128.load(r + 2 * xiStride);
  z3 = v128.load(r + 3 * xiStride);
  const u10 = f32x4.add(f32x4.add(z0, z1), z2);
  const u11 = f32x4.sub(f32x4.sub(z1, z2), z3);
  r += 4 * xiStride;
  z0 = v128.load(r);
  z1 = v128.load(r + xiStride);
  z2 = v128.load(r + 2 * xiStride);
  z3 = v128.load(r + 3 * xiStride);
  const u20 = f32x4.add(f32x4.add(z0, z1), z2);
  const u21 = f32x4.sub(f32x4.sub(z1, z2), z3);
  r += 4 * xiStride;
  z0 = v128.load(r);
  z1 = v128.load(r + xiStride);
  z2 = v128.load(r + 2 * xiStride);
  z3 = v128.load(r + 3 * xiStride);
  const u30 = f32x4.add(f32x4.add(z0, z1), z2);
  const u31 = f32x4.sub(f32x4.sub(z1, z2), z3);
  // Down each column l.
  v128.store(out, epilogue(f32x4.add(f32x4.add(u00, u10), u20), bias));
  v128.store(out, epilogue(f32x4.add(f32x4.add(u01, u11), u21), bias), 16);
  v128.store(out, epilogue(f32x4.sub(f32x4.sub(u10, u20), u30), bias), 32);
  v128.store(out, epilogue(f32x4.sub(f32x4.sub(u11, u21), u31), bias), 48);
}

/**
 * F(4x4, 3x3) output transform of 4 tiles (lanes): Y[k][l] to out + (4k + l)*16. `tmp` holds 24 vectors.
 * A^T rows: (1,1,1,1,1,0) (0,1,-1,2,-2,0) (0,1,1,4,4,0) (0,1,-1,8,-8,1).
 */
function outputTransform4x4(src: usize, xiStride: usize, tmp: usize, out: usize, bias: v128): void {
  // Along each row i: u[i][l] at tmp + (4i + l)*16.
  for (let i = 0; i < 6; i++) {
    const r = src + <usize>(i * 6) * xiStride;
    at6(
      v128.load(r),
      v128.load(r + xiStride),
      v128.load(r + 2 * xiStride),
      v128.load(r + 3 * xiStride),
      v128.load(r + 4 * xiStride),
      v128.load(r + 5 * xiStride),
      tmp + <usize>(i * 64),
      16,
    );
  }
  // Down each column l.
  for (let l = 0; l < 4; l++) {
    const c = tmp + <usize>(l * 16);
    at6(
      v128.load(c),
      v128.load(c, 64),
      v128.load(c, 128),
      v128.load(c, 192),
      v128.load(c, 256),
      v128.load(c, 320),
      out + <usize>(l * 16),
      64,
    );
  }
  for (let i = 0; i < 16; i++) {
    const p = out + <usize>(i * 16);
    v128.store(p, epilogue(v128.load(p), bias));
  }
}

/** Row 0 of A^T of F(2x2, 5x5), (1,1,1,1,1,0), applied to (z0..z4). */
function at62row0(z0: v128, z1: v128, z2: v128, z3: v128, z4: v128): v128 {
  return f32x4.add(f32x4.add(z0, f32x4.add(z1, z2)), f32x4.add(z3, z4));
}

/** Row 1 of A^T of F(2x2, 5x5), (0,1,-1,2,-2,1), applied to (z1..z5). */
function at62row1(z1: v128, z2: v128, z3: v128, z4: v128, z5: v128): v128 {
  const d = f32x4.sub(z3, z4);
  return f32x4.add(f32x4.add(f32x4.sub(z1, z2), f32x4.add(d, d)), z5);
}

/**
 * F(2x2, 5x5) output transform of 4 tiles (lanes) whose GEMM results are at src + xi*xiStride (6x6): Y[k][l]
 * to out + (2k + l)*16. A^T rows: (1,1,1,1,1,0) (0,1,-1,2,-2,1) (the points of F(4x4, 3x3)).
 */
function outputTransform2x5(src: usize, xiStride: usize, tmp: usize, out: usize, bias: v128): void {
  // Along each row i: u[i][l] at tmp + (2i + l)*16.
  for (let i = 0; i < 6; i++) {
    const r = src + <usize>(i * 6) * xiStride;
    const z1 = v128.load(r + xiStride);
    const z2 = v128.load(r + 2 * xiStride);
    const z3 = v128.load(r + 3 * xiStride);
    const z4 = v128.load(r + 4 * xiStride);
    const u = tmp + <usize>(i * 32);
    v128.store(u, at62row0(v128.load(r), z1, z2, z3, z4));
    v128.store(u, at62row1(z1, z2, z3, z4, v128.load(r + 5 * xiStride)), 16);
  }
  // Down each column l.
  for (let l = 0; l < 2; l++) {
    const c = tmp + <usize>(l * 16);
    const z1 = v128.load(c, 32);
    const z2 = v128.load(c, 64);
    const z3 = v128.load(c, 96);
    const z4 = v128.load(c, 128);
    v128.store(out + <usize>(l * 16), epilogue(at62row0(v128.load(c), z1, z2, z3, z4), bias));
    v128.store(out + <usize>(32 + l * 16), epilogue(at62row1(z1, z2, z3, z4, v128.load(c, 160)), bias));
  }
}

/** Stores the m x m output vectors at `out` of 4 tiles of one tile row, the first at yp (row stride OW). */
function storeTiles4(m: i32, out: usize, yp: usize, OW: i32): void {
  for (let k = 0; k < m; k++) {
    const d = yp + <usize>(k * OW * 4);
    const r = out + <usize>(k * m * 16);
    if (m == 2) {
      const a = v128.load(r);
      const b = v128.load(r, 16);
      v128.store(d, v128.shuffle<f32>(a, b, 0, 4, 1, 5));
      v128.store(d, v128.shuffle<f32>(a, b, 2, 6, 3, 7), 16);
    } else {
      const v0 = v128.load(r);
      const v1 = v128.load(r, 16);
      const v2 = v128.load(r, 32);
      const v3 = v128.load(r, 48);
      const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
      const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
      const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
      v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
      v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
      v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
      v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
    }
  }
}

/**
 * For each group of 4 tiles of the block: the float offset in y (channel 0) of the first tile's top-left
 * pixel when all four lie in one tile row and inside the image, else -1.
 */
function tileTable(
  table: usize,
  O: i32,
  OH: i32,
  OW: i32,
  m: i32,
  tilesH: i32,
  tilesW: i32,
  T0: i32,
  tb: i32,
): void {
  const tpi = tilesH * tilesW;
  for (let j = 0; j < tb; j += 4) {
    const T = T0 + j;
    const n = T / tpi;
    const rem = T - n * tpi;
    const th = rem / tilesW;
    const tw = rem - th * tilesW;
    const fast = j + 4 <= tb && (tw + 4) * m <= OW && (th + 1) * m <= OH;
    store<i32>(table + <usize>j, fast ? n * O * OH * OW + th * m * OW + tw * m : -1);
  }
}

/** Writes lanes [0, valid) of the m x m output vectors at `out` (tiles T, T+1, ...) clipped to the image. */
function storeTilesClipped(
  m: i32,
  out: usize,
  y: usize,
  O: i32,
  o: i32,
  OH: i32,
  OW: i32,
  tilesH: i32,
  tilesW: i32,
  T: i32,
  valid: i32,
): void {
  const tpi = tilesH * tilesW;
  let n = T / tpi;
  const rem = T - n * tpi;
  let th = rem / tilesW;
  let tw = rem - th * tilesW;
  for (let l = 0; l < valid; l++) {
    const yl = y + <usize>((n * O + o) * OH * OW * 4);
    const rows = min<i32>(m, OH - th * m);
    const cols = min<i32>(m, OW - tw * m);
    for (let k = 0; k < rows; k++) {
      const d = yl + <usize>(((th * m + k) * OW + tw * m) * 4);
      for (let c = 0; c < cols; c++) {
        store<f32>(d + <usize>(c * 4), load<f32>(out + <usize>((k * m + c) * 16 + l * 4)));
      }
    }
    if (++tw == tilesW) {
      tw = 0;
      if (++th == tilesH) {
        th = 0;
        n++;
      }
    }
  }
}

function transformOutputBlock(
  bias: usize,
  y: usize,
  O: i32,
  OH: i32,
  OW: i32,
  m: i32,
  r: i32,
  tilesH: i32,
  tilesW: i32,
  T0: i32,
  tb: i32,
  o0: i32,
  o1: i32,
  ocSize: i32,
  mb: usize,
  scratch: usize,
  table: usize,
): void {
  const tbp = roundUp(tb, NR);
  const tmp = scratch;
  const out = scratch + 36 * 16;
  const xiStride = <usize>mXiStride(ocSize, tbp);
  const mPanel = <usize>(ocSize * NR * 4);
  const P = OH * OW;
  for (let o = o0; o < o1; o++) {
    const vb = f32x4.splat(bias == 0 ? 0 : load<f32>(bias + <usize>(o * 4)));
    const row = mb + <usize>((o - o0) * NR * 4);
    for (let j = 0; j < tb; j += 4) {
      const src = row + <usize>(j >> 3) * mPanel + <usize>((j & 7) * 4);
      if (r == 5) outputTransform2x5(src, xiStride, tmp, out, vb);
      else if (m == 2) outputTransform4x2(src, xiStride, out, vb);
      else outputTransform4x4(src, xiStride, tmp, out, vb);
      const off = load<i32>(table + <usize>j);
      if (off >= 0) storeTiles4(m, out, y + <usize>((off + o * P) * 4), OW);
      else storeTilesClipped(m, out, y, O, o, OH, OW, tilesH, tilesW, T0 + j, min<i32>(4, tb - j));
    }
  }
}

// ---- entry point ----

/**
 * y = conv2d(x, w) (r x r, stride 1, padding ph/pw; (m, r) one of (2, 3), (4, 3), (2, 5)) + bias (bias may
 * be 0), from the transformed weights `up` (winogradWeights), or with flags & 1 from
 * the weights themselves (up = w, transformed per unit: only for a single tile block, ocSize a multiple of
 * FUSED_ROWS; flags & 2: w laid out as setWeightLayout's `transposed`, for an input gradient). Units
 * [u0, u1) of ceil(tiles/TB) * ceil(O/ocSize), block-major.
 */
export function winogradConv2dForward(
  x: usize,
  up: usize,
  bias: usize,
  y: usize,
  N: i32,
  C: i32,
  H: i32,
  W: i32,
  O: i32,
  ph: i32,
  pw: i32,
  OH: i32,
  OW: i32,
  m: i32,
  r: i32,
  TB: i32,
  ocSize: i32,
  flags: i32,
  ws: usize,
  u0: i32,
  u1: i32,
): void {
  const fused = flags & 1;
  setWeightLayout(O, C, r, flags & 2);
  const t = m + r - 1;
  const T2 = t * t;
  const tilesH = (OH + m - 1) / m;
  const tilesW = (OW + m - 1) / m;
  const T = N * tilesH * tilesW;
  const nOc = (O + ocSize - 1) / ocSize;
  const tbpMax = roundUp(TB, NR);
  const BW = bandWidth(OW, m);
  const vb = ws;
  const mb = vb + <usize>(T2 * vXiStride(C, tbpMax));
  const band = mb + <usize>(T2 * mXiStride(ocSize, tbpMax));
  const scratch = band + <usize>bandBytes(OW, m, t);
  const table = scratch + <usize>SCRATCH_BYTES;
  const wb = (table + <usize>(tbpMax + 63)) & ~(<usize>63);
  memory.fill(band, 0, <usize>bandBytes(OW, m, t));
  let transformed = -1;
  for (let u = u0; u < u1; u++) {
    const b = u / nOc;
    const k = u - b * nOc;
    const T0 = b * TB;
    const tb = min<i32>(TB, T - T0);
    if (b != transformed) {
      transformInputBlock(x, C, H, W, ph, pw, m, r, tilesH, tilesW, T0, tb, vb, band, BW, scratch);
      tileTable(table, O, OH, OW, m, tilesH, tilesW, T0, tb);
      transformed = b;
    }
    const o0 = k * ocSize;
    const o1 = min<i32>(O, o0 + ocSize);
    const tbp = roundUp(tb, NR);
    if (fused != 0) multiplyBlockFused(up, O, C, m, r, o0, o1, ocSize, vb, tbp, mb, wb, scratch);
    else multiplyBlock(up, O, C, T2, o0, o1, ocSize, vb, tbp, mb);
    transformOutputBlock(
      bias,
      y,
      O,
      OH,
      OW,
      m,
      r,
      tilesH,
      tilesW,
      T0,
      tb,
      o0,
      o1,
      ocSize,
      mb,
      scratch,
      table,
    );
  }
}
