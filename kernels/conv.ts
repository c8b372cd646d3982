// conv2d through the packed GEMM: forward, input gradient, weight gradient, bias gradient.
//
// Memory layout (PyTorch conventions)
// - x: NCHW [N][C][H][W]; weights OIHW [O][C/G][KH][KW]; y / dy: [N][O][OH][OW]; bias [O].
// - Per sample n and group g: Y_g (Og x P) = W_g (Og x Kg) * cols_g (Kg x P), Kg = (C/G)*KH*KW,
//   P = OH*OW, with cols the im2col matrix of im2col.ts (packed straight into B panels).
// - Weights are pre-packed once per call by conv2dPackWeights into A panels, group after group:
//   forward  (trans = 0): group g at wp + g * roundUp(Og,5)*Kg floats (W_g);
//   backward (trans = 1): group g at wp + g * roundUp(Kg,5)*Og floats (W_gᵀ).
// - Work is split into units so threads can share a call: forward units = N * ceil(P/chunk) (a sample and
//   a range of output pixels), input-gradient units = N (samples), weight-gradient units =
//   G * ceil(Kg/chunk) (a group and a range of dW columns, summed over all samples).
// - Weight gradient orientation: with trans = 0, dW_g (Og x Kg) = dy_g (Og x P) * cols_gᵀ, M = Og; with
//   few output channels that leaves the 5-row micro-kernel on short panels, so trans = 1 computes
//   dW_gᵀ (Kg x Og) = cols_g * dy_gᵀ instead (M = Kg taps, cols packed straight into A panels, dy_gᵀ as B)
//   and stores the tiles transposed into dW. The caller (src/backend/wasm/conv.ts) picks the orientation.

import {
  WS_PAD,
  WS_TABLES,
  gemmCore,
  setA,
  setAIm2col,
  setB,
  setC,
  setCTransposed,
  sgemmPackA,
} from "./gemm";
import { foldPaddedGrad, setConvGeom, setIm2colRow0, usePaddedGrad, usePaddedImage } from "./im2col";

function roundUp5(n: i32): i32 {
  return ((n + 4) / 5) * 5;
}

/** Packs the weights of every group into A panels at dst (see layout above). */
export function conv2dPackWeights(w: usize, O: i32, Kg: i32, G: i32, trans: i32, dst: usize): void {
  const Og = O / G;
  for (let g = 0; g < G; g++) {
    const src = w + <usize>(g * Og * Kg * 4);
    if (trans == 0) {
      sgemmPackA(0, Og, Kg, src, Kg, dst + <usize>(g * roundUp5(Og) * Kg * 4));
    } else {
      sgemmPackA(1, Kg, Og, src, Kg, dst + <usize>(g * roundUp5(Kg) * Og * 4));
    }
  }
}

/** Floats needed by conv2dPackWeights. */
export function conv2dPackedWeightsSize(O: i32, Kg: i32, G: i32, trans: i32): i32 {
  const Og = O / G;
  return trans == 0 ? G * roundUp5(Og) * Kg : G * roundUp5(Kg) * Og;
}

/**
 * Packs, into A panels at dst, the weights of the forward conv that computes a stride-1 input gradient as
 * a conv of dy: per group, input and output channels swapped and each kernel rotated by 180 degrees,
 * W'[g][c][o][t] = w[g][o][c][KK-1-t] (reversing the flattened KH*KW taps reverses both axes). The
 * layout is conv2dPackWeights(W', O = G*Cg, Kg = Og*KK, G, trans = 0), which conv2dForward reads, and
 * has as many floats as conv2dPackedWeightsSize(G * Cg, Og * KK, G, 0). w is OIHW [O][Cg][KK].
 * It walks w in memory order (row o, then the 5*KK floats of each panel's channels), writing 5*KK
 * consecutive floats into each panel: walking panel by panel instead read 512 rows 18 KB apart per panel
 * and took 8.9 ms for 512 x 512 3x3 weights (conv2dPackWeights with trans = 1: 3.1 ms).
 */
export function conv2dPackFlippedWeights(w: usize, O: i32, Cg: i32, KK: i32, G: i32, dst: usize): void {
  const Og = O / G;
  const K = Og * KK;
  const ld = <usize>(KK * 4);
  const panelBytes = <usize>(5 * K * 4);
  for (let g = 0; g < G; g++) {
    const dg = dst + <usize>(g * roundUp5(Cg) * K * 4);
    for (let o = 0; o < Og; o++) {
      const row = w + <usize>((g * Og + o) * Cg * KK * 4);
      // Depth o*KK + t of every panel: 5 floats per tap t, taps reversed.
      let d = dg + <usize>(o * KK * 5 * 4);
      for (let p = 0; p < Cg; p += 5) {
        const rows = min<i32>(5, Cg - p);
        const last = row + <usize>((p * KK + KK - 1) * 4);
        let e = d;
        for (let t = 0; t < KK; t++) {
          const s = last - <usize>(t * 4);
          if (rows == 5) {
            store<f32>(e, load<f32>(s));
            store<f32>(e, load<f32>(s + ld), 4);
            store<f32>(e, load<f32>(s + 2 * ld), 8);
            store<f32>(e, load<f32>(s + 3 * ld), 12);
            store<f32>(e, load<f32>(s + 4 * ld), 16);
          } else {
            for (let r = 0; r < 5; r++) {
              const v: f32 = r < rows ? load<f32>(s + <usize>r * ld) : 0;
              store<f32>(e + <usize>(r * 4), v);
            }
          }
          e += 20;
        }
        d += panelBytes;
      }
    }
  }
}

/** y = conv2d(x, w) + bias (bias may be 0). Units [u0, u1) of N*ceil(P/chunk). */
export function conv2dForward(
  x: usize,
  wp: usize,
  bias: usize,
  y: usize,
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
  G: i32,
  OH: i32,
  OW: i32,
  chunk: i32,
  ws: usize,
  u0: i32,
  u1: i32,
): void {
  const Cg = C / G;
  const Og = O / G;
  const Kg = Cg * KH * KW;
  const P = OH * OW;
  const HW = H * W;
  const chunks = (P + chunk - 1) / chunk;
  const gStride = <usize>(roundUp5(Og) * Kg * 4);
  for (let u = u0; u < u1; u++) {
    const n = u / chunks;
    const j0 = (u - n * chunks) * chunk;
    const j1 = min<i32>(P, j0 + chunk);
    for (let g = 0; g < G; g++) {
      setConvGeom(x + <usize>((n * C + g * Cg) * HW * 4), H, W, KH, KW, sh, sw, ph, pw, dh, dw, OW);
      usePaddedImage(Cg, OH, ws + WS_PAD);
      setA(true, wp + <usize>g * gStride, Kg, false);
      setB(1, 0, 0, false);
      const b: usize = bias == 0 ? 0 : bias + <usize>(g * Og * 4);
      setC(0, y + <usize>((n * O + g * Og) * P * 4), P, 1, 0, b, 1);
      gemmCore(Og, Kg, j0, j1, ws);
    }
  }
}

/**
 * dx = conv2d input gradient of dy (dx += ... if accumulate != 0), for samples [n0, n1).
 * wpT is conv2dPackWeights(..., trans = 1).
 */
export function conv2dBackwardInput(
  dy: usize,
  wpT: usize,
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
  G: i32,
  OH: i32,
  OW: i32,
  accumulate: i32,
  ws: usize,
  n0: i32,
  n1: i32,
): void {
  const Cg = C / G;
  const Og = O / G;
  const Kg = Cg * KH * KW;
  const P = OH * OW;
  const HW = H * W;
  const gStride = <usize>(roundUp5(Kg) * Og * 4);
  for (let n = n0; n < n1; n++) {
    if (accumulate == 0) memory.fill(dx + <usize>(n * C * HW * 4), 0, <usize>(C * HW * 4));
    for (let g = 0; g < G; g++) {
      setConvGeom(dx + <usize>((n * C + g * Cg) * HW * 4), H, W, KH, KW, sh, sw, ph, pw, dh, dw, OW);
      setA(true, wpT + <usize>g * gStride, Og, true);
      setB(0, dy + <usize>((n * O + g * Og) * P * 4), P, false);
      setC(1, 0, 0, 1, 1, 0, 0);
      const padded = usePaddedGrad(Cg, OH, Kg, ws + WS_PAD, ws + WS_TABLES);
      gemmCore(Kg, Og, 0, P, ws);
      if (padded) foldPaddedGrad(Cg);
    }
  }
}

/**
 * dW = beta*dW + sum_n dy_n * cols_nᵀ, for units [u0, u1) of G*ceil(Kg/chunk) (group, dW column range),
 * in the orientation `trans` (see the layout notes above).
 */
export function conv2dBackwardWeight(
  x: usize,
  dy: usize,
  dW: usize,
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
  G: i32,
  OH: i32,
  OW: i32,
  beta: f32,
  trans: i32,
  chunk: i32,
  ws: usize,
  u0: i32,
  u1: i32,
): void {
  const Cg = C / G;
  const Og = O / G;
  const Kg = Cg * KH * KW;
  const P = OH * OW;
  const HW = H * W;
  const chunks = (Kg + chunk - 1) / chunk;
  if (trans != 0) {
    for (let u = u0; u < u1; u++) {
      const g = u / chunks;
      const i0 = (u - g * chunks) * chunk;
      const i1 = min<i32>(Kg, i0 + chunk);
      for (let n = 0; n < N; n++) {
        setConvGeom(x + <usize>((n * C + g * Cg) * HW * 4), H, W, KH, KW, sh, sw, ph, pw, dh, dw, OW);
        usePaddedImage(Cg, OH, ws + WS_PAD);
        setIm2colRow0(i0);
        setAIm2col();
        setB(0, dy + <usize>((n * O + g * Og) * P * 4), P, true);
        setC(0, dW + <usize>((g * Og * Kg + i0) * 4), Kg, 1, n == 0 ? beta : 1, 0, 0);
        setCTransposed();
        gemmCore(i1 - i0, P, 0, Og, ws);
      }
    }
    return;
  }
  for (let u = u0; u < u1; u++) {
    const g = u / chunks;
    const j0 = (u - g * chunks) * chunk;
    const j1 = min<i32>(Kg, j0 + chunk);
    for (let n = 0; n < N; n++) {
      setConvGeom(x + <usize>((n * C + g * Cg) * HW * 4), H, W, KH, KW, sh, sw, ph, pw, dh, dw, OW);
      usePaddedImage(Cg, OH, ws + WS_PAD);
      setA(false, dy + <usize>((n * O + g * Og) * P * 4), P, false);
      setB(2, 0, 0, false);
      setC(0, dW + <usize>(g * Og * Kg * 4), Kg, 1, n == 0 ? beta : 1, 0, 0);
      gemmCore(Og, P, j0, j1, ws);
    }
  }
}
