// SGEMM: C = alpha * op(A) * op(B) + beta * C, all matrices row-major f32.
//
// Memory layout
// - op(A) is M x K: A[i*lda + k], or with transA A[k*lda + i]. op(B) is K x N: B[k*ldb + j], or with
//   transB B[j*ldb + k]. C is M x N: C[i*ldc + j].
// - Packed A ("A panels"): rows grouped by MR = 5; panel p holds rows 5p..5p+4 as kc consecutive groups of
//   5 floats (k-major): Ap[p*5*kc + k*5 + r]. Rows past M are zero. A fully pre-packed A (sgemmPackA,
//   kc = K) has the same layout, so a K-block starting at pc is the panel base + pc*5 floats.
// - Packed B ("B panels"): columns grouped by NR = 8; panel q holds columns 8q..8q+7 of a kc x nc block as
//   kc consecutive groups of 8 floats: Bp[q*8*kc + k*8 + jj]. Columns past the block are zero.
// - Workspace (per thread, gemmWorkspaceBytes()): [B panels KC*NC][A block MC*KC][tile 5x8][column tables]
//   [pad area: PAD_FLOATS floats for conv's zero-padded image copy, im2col.ts].
//
// Blocking (measured on Zen 3, see docs/wasm-backend.md): NC = 4096 columns, KC = 256, MC = 120 rows,
// a 5x8 micro-tile in 10 f32x4 accumulators, A broadcast with v128.load32_splat, one k per iteration.
//
// The B source can be a strided matrix or an image read through im2col (im2col.ts), so conv2d packs its
// columns straight into B panels; the C sink can be a strided matrix with a fused epilogue (beta, bias per
// row or column) or a col2im scatter-add into an image (the input gradient of conv2d).

import { fmadd } from "./simd";
import { PAD_FLOATS, packAIm2col, packBIm2col, packBIm2colT, scatterTileCol2im } from "./im2col";

export const MR: i32 = 5;
export const NR: i32 = 8;
export const MC: i32 = 120;
export const KC: i32 = 256;
export const NC: i32 = 4096;

export const WS_B: usize = 0;
export const WS_A: usize = WS_B + <usize>(KC * NC * 4);
export const WS_TILE: usize = WS_A + <usize>(MC * KC * 4);
export const WS_TABLES: usize = WS_TILE + 256;
export const WS_PAD: usize = WS_TABLES + <usize>(3 * NC * 4) + 256;
export const WS_BYTES: usize = WS_PAD + <usize>(PAD_FLOATS * 4);

/** Bytes of workspace one thread needs for any call that takes a `ws` argument. */
export function gemmWorkspaceBytes(): i32 {
  return <i32>WS_BYTES;
}

// ---- call configuration (module globals: every thread has its own instance, hence its own copy) ----
/** B source: 0 strided matrix, 1 im2col of an image, 2 transposed im2col (rows = output pixels). */
export let gBMode: i32 = 0;
let gB: usize = 0;
let gLdb: i32 = 0;
let gTransB: bool = false;
/** A source: packed (a pre-packed panel buffer with full K) or strided (packed per block here). */
let gAPacked: bool = false;
let gA: usize = 0;
let gLda: i32 = 0;
let gTransA: bool = false;
/** A read through im2col (im2col.ts packAIm2col) instead of a matrix: set by setAIm2col, reset by setA. */
let gAIm2col: bool = false;
/** C sink: 0 strided with epilogue, 1 col2im scatter-add. */
export let gCMode: i32 = 0;
let gC: usize = 0;
let gLdc: i32 = 0;
let gAlpha: f32 = 1;
let gBeta: f32 = 0;
let gBias: usize = 0;
/** 0 no bias, 1 bias[i] per row, 2 bias[j] per column. */
let gBiasMode: i32 = 0;
/** Strided C stored transposed: element (i, j) at C[j*ldc + i]. Set by setCTransposed, reset by setC. */
let gCTrans: bool = false;

export function setA(packed: bool, a: usize, lda: i32, transA: bool): void {
  gAPacked = packed;
  gA = a;
  gLda = lda;
  gTransA = transA;
  gAIm2col = false;
}

/** A = the im2col matrix of the image set by im2col.ts setConvGeom (rows = taps, columns = pixels). */
export function setAIm2col(): void {
  gAPacked = false;
  gAIm2col = true;
}

/** Stores the strided C transposed (after setC): C(i, j) goes to c[j*ldc + i]; no bias or activation. */
export function setCTransposed(): void {
  gCTrans = true;
}

export function setB(mode: i32, b: usize, ldb: i32, transB: bool): void {
  gBMode = mode;
  gB = b;
  gLdb = ldb;
  gTransB = transB;
}

export function setC(mode: i32, c: usize, ldc: i32, alpha: f32, beta: f32, bias: usize, biasMode: i32): void {
  gCMode = mode;
  gC = c;
  gLdc = ldc;
  gAlpha = alpha;
  gBeta = beta;
  gBias = bias;
  gBiasMode = bias == 0 ? 0 : biasMode;
  gCTrans = false;
}

// ---- packing ----

/** Packs rows [i0, i0+mc) x cols [pc, pc+kc) of op(A) (strided source from setA) into A panels at dst. */
function packA(dst: usize, M: i32, i0: i32, mc: i32, pc: i32, kc: i32): void {
  const lda = gLda;
  for (let p = 0; p < mc; p += MR) {
    const rows = min<i32>(MR, min<i32>(mc - p, M - i0 - p));
    let d = dst + <usize>(p * kc * 4);
    if (!gTransA) {
      const src = gA + <usize>(((i0 + p) * lda + pc) * 4);
      if (rows == MR) {
        const ld4 = <usize>(lda * 4);
        for (let k = 0; k < kc; k++) {
          const s = src + <usize>(k * 4);
          store<f32>(d, load<f32>(s));
          store<f32>(d, load<f32>(s + ld4), 4);
          store<f32>(d, load<f32>(s + 2 * ld4), 8);
          store<f32>(d, load<f32>(s + 3 * ld4), 12);
          store<f32>(d, load<f32>(s + 4 * ld4), 16);
          d += 20;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) {
            const v: f32 = r < rows ? load<f32>(src + <usize>((r * lda + k) * 4)) : 0;
            store<f32>(d + <usize>(r * 4), v);
          }
          d += 20;
        }
      }
    } else {
      const src = gA + <usize>((pc * lda + i0 + p) * 4);
      for (let k = 0; k < kc; k++) {
        const s = src + <usize>(k * lda * 4);
        for (let r = 0; r < MR; r++) {
          const v: f32 = r < rows ? load<f32>(s + <usize>(r * 4)) : 0;
          store<f32>(d + <usize>(r * 4), v);
        }
        d += 20;
      }
    }
  }
}

/** Packs a kc x nc block (rows pc.., columns jc..) of op(B) from a strided matrix into B panels. */
function packBStrided(dst: usize, pc: i32, kc: i32, jc: i32, nc: i32): void {
  const ldb = gLdb;
  for (let q = 0; q < nc; q += NR) {
    const w = min<i32>(NR, nc - q);
    let d = dst + <usize>(q * kc * 4);
    const j = jc + q;
    if (!gTransB) {
      let s = gB + <usize>((pc * ldb + j) * 4);
      const ld4 = <usize>(ldb * 4);
      if (w == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
          s += ld4;
          d += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let jj = 0; jj < NR; jj++) {
            const v: f32 = jj < w ? load<f32>(s + <usize>(jj * 4)) : 0;
            store<f32>(d + <usize>(jj * 4), v);
          }
          s += ld4;
          d += 32;
        }
      }
    } else {
      // op(B)[k][j] = B[j*ldb + k]: each panel column is a contiguous run of B.
      const s = gB + <usize>((j * ldb + pc) * 4);
      for (let jj = 0; jj < NR; jj++) {
        let dd = d + <usize>(jj * 4);
        if (jj < w) {
          let ss = s + <usize>(jj * ldb * 4);
          for (let k = 0; k < kc; k++) {
            store<f32>(dd, load<f32>(ss));
            ss += 4;
            dd += 32;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            store<f32>(dd, 0);
            dd += 32;
          }
        }
      }
    }
  }
}

function packB(dst: usize, pc: i32, kc: i32, jc: i32, nc: i32, ws: usize): void {
  if (gBMode == 0) packBStrided(dst, pc, kc, jc, nc);
  else if (gBMode == 1) packBIm2col(dst, pc, kc, jc, nc, ws + WS_TABLES);
  else packBIm2colT(dst, pc, kc, jc, nc, ws + WS_TABLES);
}

/** Packs all of op(A) (M x K) into A panels at dst (roundUp(M,5)*K floats), for reuse across calls/threads. */
export function sgemmPackA(transA: i32, M: i32, K: i32, a: usize, lda: i32, dst: usize): void {
  setA(false, a, lda, transA != 0);
  packA(dst, M, 0, M, 0, K);
}

// ---- micro-kernel and store ----

/** 5x8 tile of sum_k A[r][k]*B[k][c] over kc steps, written to `tile` (row r at tile + 32r). */
export function micro5x8(kc: i32, pa: usize, pb: usize, tile: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0);
  let c41 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = fmadd(a, b0, c00);
    c01 = fmadd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = fmadd(a, b0, c10);
    c11 = fmadd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = fmadd(a, b0, c20);
    c21 = fmadd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = fmadd(a, b0, c30);
    c31 = fmadd(a, b1, c31);
    a = v128.load32_splat(pa, 16);
    c40 = fmadd(a, b0, c40);
    c41 = fmadd(a, b1, c41);
    pa += 20;
    pb += 32;
  }
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  v128.store(tile, c40, 128);
  v128.store(tile, c41, 144);
}

/**
 * micro5x8 for a panel with at most 2 real rows (the tail of M = 5q+1 or 5q+2, e.g. 6 or 16 output
 * channels): reads rows 0-1 of the 5-row A panel and writes rows 0-1 of the tile, two fifths of the work. Exported for the same reason as micro5x8 (kept out of the driver).
 */
export function micro2x8(kc: i32, pa: usize, pb: usize, tile: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = fmadd(a, b0, c00);
    c01 = fmadd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = fmadd(a, b0, c10);
    c11 = fmadd(a, b1, c11);
    pa += 20;
    pb += 32;
  }
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
}

/** C[i.., j..] (mr x nr) = alpha*tile + beta'*C, then the bias on the last K block. */
function storeTileStrided(tile: usize, i: i32, j: i32, mr: i32, nr: i32, first: bool, last: bool): void {
  const beta: f32 = first ? gBeta : 1;
  if (gCTrans) {
    storeTileTransposed(tile, i, j, mr, nr, beta);
    return;
  }
  const alpha = gAlpha;
  const biasMode = last ? gBiasMode : 0;
  const ldc = gLdc;
  if (nr == NR) {
    const va = f32x4.splat(alpha);
    const vb = f32x4.splat(beta);
    const zero = f32x4.splat(0);
    let colBias0 = zero;
    let colBias1 = zero;
    if (biasMode == 2) {
      colBias0 = v128.load(gBias + <usize>(j * 4));
      colBias1 = v128.load(gBias + <usize>(j * 4), 16);
    }
    for (let r = 0; r < mr; r++) {
      const c = gC + <usize>(((i + r) * ldc + j) * 4);
      const t = tile + <usize>(r * 32);
      let v0 = f32x4.mul(v128.load(t), va);
      let v1 = f32x4.mul(v128.load(t, 16), va);
      if (beta == 1) {
        v0 = f32x4.add(v0, v128.load(c));
        v1 = f32x4.add(v1, v128.load(c, 16));
      } else if (beta != 0) {
        v0 = fmadd(vb, v128.load(c), v0);
        v1 = fmadd(vb, v128.load(c, 16), v1);
      }
      if (biasMode == 1) {
        const bb = v128.load32_splat(gBias + <usize>((i + r) * 4));
        v0 = f32x4.add(v0, bb);
        v1 = f32x4.add(v1, bb);
      } else if (biasMode == 2) {
        v0 = f32x4.add(v0, colBias0);
        v1 = f32x4.add(v1, colBias1);
      }
      v128.store(c, v0);
      v128.store(c, v1, 16);
    }
  } else {
    for (let r = 0; r < mr; r++) {
      const c = gC + <usize>(((i + r) * ldc + j) * 4);
      const t = tile + <usize>(r * 32);
      for (let jj = 0; jj < nr; jj++) {
        const p = c + <usize>(jj * 4);
        let v: f32 = alpha * load<f32>(t + <usize>(jj * 4));
        if (beta == 1) v += load<f32>(p);
        else if (beta != 0) v += beta * load<f32>(p);
        if (biasMode == 1) v += load<f32>(gBias + <usize>((i + r) * 4));
        else if (biasMode == 2) v += load<f32>(gBias + <usize>((j + jj) * 4));
        store<f32>(p, v);
      }
    }
  }
}

/** C[j.., i..]ᵀ (the mr x nr tile lands in nr rows of C, mr consecutive floats each) = alpha*tile + beta*C. */
function storeTileTransposed(tile: usize, i: i32, j: i32, mr: i32, nr: i32, beta: f32): void {
  const alpha = gAlpha;
  const ldc = gLdc;
  for (let jj = 0; jj < nr; jj++) {
    const c = gC + <usize>(((j + jj) * ldc + i) * 4);
    const t = tile + <usize>(jj * 4);
    for (let r = 0; r < mr; r++) {
      const p = c + <usize>(r * 4);
      let v: f32 = alpha * load<f32>(t + <usize>(r * 32));
      if (beta == 1) v += load<f32>(p);
      else if (beta != 0) v += beta * load<f32>(p);
      store<f32>(p, v);
    }
  }
}

// ---- driver ----

/**
 * Computes columns [j0, j1) of C for M rows and depth K with the configuration set by setA/setB/setC.
 * `ws` is this thread's workspace (gemmWorkspaceBytes()).
 */
export function gemmCore(M: i32, K: i32, j0: i32, j1: i32, ws: usize): void {
  if (M <= 0 || j1 <= j0) return;
  const pB = ws + WS_B;
  const pA = ws + WS_A;
  const tile = ws + WS_TILE;
  if (K <= 0) {
    // Nothing to multiply: C = beta*C (+ bias, activation); a zero tile through the usual store.
    for (let t = 0; t < 40; t++) store<f32>(tile + <usize>(t * 4), 0);
    if (gCMode != 0) return;
    for (let j = j0; j < j1; j += NR) {
      for (let i = 0; i < M; i += MR) {
        storeTileStrided(tile, i, j, min<i32>(MR, M - i), min<i32>(NR, j1 - j), true, true);
      }
    }
    return;
  }
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min<i32>(NC, j1 - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min<i32>(KC, K - pc);
      const first = pc == 0;
      const last = pc + kc >= K;
      packB(pB, pc, kc, jc, nc, ws);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min<i32>(MC, M - ic);
        let aBase: usize;
        let aStride: usize;
        if (gAPacked) {
          aBase = gA + <usize>((ic * K + pc * MR) * 4);
          aStride = <usize>(MR * K * 4);
        } else {
          if (gAIm2col) packAIm2col(pA, M, ic, mc, pc, kc, ws + WS_TABLES);
          else packA(pA, M, ic, mc, pc, kc);
          aBase = pA;
          aStride = <usize>(MR * kc * 4);
        }
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min<i32>(NR, nc - jr);
          const pb = pB + <usize>(jr * kc * 4);
          let pa = aBase;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min<i32>(MR, mc - ir);
            if (mr <= 2) micro2x8(kc, pa, pb, tile);
            else micro5x8(kc, pa, pb, tile);
            if (gCMode == 0) storeTileStrided(tile, ic + ir, jc + jr, mr, nr, first, last);
            else scatterTileCol2im(tile, ic + ir, jc + jr, mr, nr, gAlpha);
            pa += aStride;
          }
        }
      }
    }
  }
}

// ---- exported entry points ----

/**
 * Columns [j0, j1) of C = alpha*op(A)*op(B) + beta*C (+ bias). If aPacked != 0, `a` is the output of
 * sgemmPackA for the same op(A) and lda/transA are ignored. biasMode: 0 none, 1 per row, 2 per column.
 */
export function sgemmRange(
  transA: i32,
  transB: i32,
  M: i32,
  K: i32,
  alpha: f32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  beta: f32,
  c: usize,
  ldc: i32,
  bias: usize,
  biasMode: i32,
  aPacked: i32,
  ws: usize,
  j0: i32,
  j1: i32,
): void {
  setA(aPacked != 0, a, lda, transA != 0);
  setB(0, b, ldb, transB != 0);
  setC(0, c, ldc, alpha, beta, bias, biasMode);
  gemmCore(M, K, j0, j1, ws);
}

/** Plain single-threaded C = alpha*op(A)*op(B) + beta*C over all N columns. */
export function sgemm(
  transA: i32,
  transB: i32,
  M: i32,
  N: i32,
  K: i32,
  alpha: f32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  beta: f32,
  c: usize,
  ldc: i32,
  ws: usize,
): void {
  sgemmRange(transA, transB, M, K, alpha, a, lda, b, ldb, beta, c, ldc, 0, 0, 0, ws, 0, N);
}
