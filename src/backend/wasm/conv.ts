// Typed wrappers of the conv2d kernels (kernels/conv.ts): forward with fused bias/ReLU, input gradient,
// weight gradient and bias gradient. NCHW activations, OIHW weights; addresses are byte offsets.

import type { WasmRuntime } from "./runtime.js";
import type { WasmStorage } from "./storage.js";
import {
  winogradApplies,
  winogradBackwardShape,
  winogradConv2dBackwardInput,
  winogradConv2dForward,
  type WinogradTile,
} from "./winograd.js";

export interface Conv2dShape {
  N: number;
  C: number;
  H: number;
  W: number;
  /** Output channels. */
  O: number;
  KH: number;
  KW: number;
  strideH?: number;
  strideW?: number;
  padH?: number;
  padW?: number;
  dilationH?: number;
  dilationW?: number;
  groups?: number;
  /**
   * Output size, when the caller has it (default: computed from the input). Conv-transpose passes it:
   * with output padding the "input" (its output) may have rows no output pixel reaches.
   */
  OH?: number;
  OW?: number;
}

interface Geom {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  G: number;
  OH: number;
  OW: number;
  Kg: number;
  P: number;
}

export function conv2dOutputSize(s: Conv2dShape): { OH: number; OW: number } {
  const g = geom(s);
  return { OH: g.OH, OW: g.OW };
}

function geom(s: Conv2dShape): Geom {
  const sh = s.strideH ?? 1;
  const sw = s.strideW ?? 1;
  const ph = s.padH ?? 0;
  const pw = s.padW ?? 0;
  const dh = s.dilationH ?? 1;
  const dw = s.dilationW ?? 1;
  const G = s.groups ?? 1;
  const OH = s.OH ?? Math.floor((s.H + 2 * ph - dh * (s.KH - 1) - 1) / sh) + 1;
  const OW = s.OW ?? Math.floor((s.W + 2 * pw - dw * (s.KW - 1) - 1) / sw) + 1;
  if (s.C % G !== 0 || s.O % G !== 0)
    throw new Error(`conv2d: channels ${s.C}->${s.O} not divisible by ${G} groups`);
  if (OH <= 0 || OW <= 0) throw new Error(`conv2d: empty output ${OH}x${OW}`);
  return { ...s, sh, sw, ph, pw, dh, dw, G, OH, OW, Kg: (s.C / G) * s.KH * s.KW, P: OH * OW };
}

function geomArgs(g: Geom): number[] {
  return [g.C, g.H, g.W, g.O, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.G, g.OH, g.OW];
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

function packWeights(rt: WasmRuntime, g: Geom, w: number, trans: 0 | 1): number {
  const floats = rt.exports.conv2dPackedWeightsSize(g.O, g.Kg, g.G, trans);
  const packed = rt.mem.alloc(floats * 4);
  rt.exports.conv2dPackWeights(w, g.O, g.Kg, g.G, trans, packed);
  return packed;
}

/** How conv2dForward computes: "auto" picks by winogradTileFor; the others force a path (tests, benches). */
export type Conv2dAlgorithm = "auto" | "im2col" | "winograd";

/**
 * The Winograd output tile for a conv2d forward (or an input gradient computed as one), or 0 for the im2col
 * GEMM. The cost compared is the GEMM work in micro-kernel columns: (m+2)^2 transform positions x tiles
 * (rounded up to the 8-column panel) for F(m x m, 3 x 3), 9 taps x output pixels for im2col.
 * Measured (node --import tsx bench/winograd.ts, medians of 15 alternating runs, 1 thread): on ResNet-18's
 * 3x3 layers F(4x4) is 2.3-3.0x faster than im2col and 1.3-1.5x faster than F(2x2) at batch 1 and 16,
 * except 512 channels at 7x7, batch 1 (4 tiles fill half a panel), where F(2x2) is 1.7x faster than im2col
 * and F(4x4) 1.3x. Hence: F(4x4) when its work is below 0.75 of F(2x2)'s (14x14 batch 1: 0.64, F(4x4) 1.3x
 * faster; 8x8 batch 1: 1.13, F(2x2) 1.3x faster), and Winograd only when its work is below 0.7 of im2col's
 * (7x7 batch 1: 0.51, 1.7x faster; 4x4 batch 1: 0.89, 0.84x) and C and O are at least 8 (3 -> 16 channels
 * at 32x32: 0.86-0.91x, the transforms outweigh the multiplies).
 */
export function winogradTileFor(s: Conv2dShape): WinogradTile | 0 {
  if (!winogradApplies(s) || s.C < 8 || s.O < 8) return 0;
  const { OH, OW } = conv2dOutputSize(s);
  const m = winogradTile(s);
  return winogradColumns(s.N, OH, OW, m) < 0.7 * 9 * roundUp(s.N * OH * OW, 8) ? m : 0;
}

function winogradColumns(N: number, OH: number, OW: number, m: number): number {
  return (m + 2) * (m + 2) * roundUp(N * Math.ceil(OH / m) * Math.ceil(OW / m), 8);
}

/** The faster Winograd tile for this conv (see winogradTileFor). */
export function winogradTile(s: Conv2dShape): WinogradTile {
  const { OH, OW } = conv2dOutputSize(s);
  return winogradColumns(s.N, OH, OW, 4) < 0.75 * winogradColumns(s.N, OH, OW, 2) ? 4 : 2;
}

/**
 * y = conv2d(x, w) (+ bias[O] if bias != 0) (then ReLU if relu). `weightStorage`, the storage at `w` when
 * the caller has one, lets Winograd cache the transformed weights between calls (winograd-cache.ts).
 */
export function conv2dForward(
  rt: WasmRuntime,
  s: Conv2dShape,
  x: number,
  w: number,
  bias: number,
  y: number,
  relu = false,
  algorithm: Conv2dAlgorithm = "auto",
  weightStorage?: WasmStorage,
): void {
  const tile = algorithm === "im2col" ? 0 : algorithm === "winograd" ? winogradTile(s) : winogradTileFor(s);
  if (tile !== 0) {
    winogradConv2dForward(rt, s, x, w, bias, y, relu, { tile, weightStorage });
    return;
  }
  const g = geom(s);
  const work = g.N * g.O * g.P * g.Kg;
  const threads = rt.threadsFor(work, g.N * g.P, 8);
  // Whole samples per unit when there are enough of them; otherwise split each sample's pixels.
  const chunk = g.N >= threads ? g.P : roundUp(Math.ceil(g.P / threads), 8);
  const units = g.N * Math.ceil(g.P / chunk);
  const packed = packWeights(rt, g, w, 0);
  try {
    rt.parallel({
      name: "conv2dForward",
      args: [x, packed, bias, y, g.N, ...geomArgs(g), relu ? 1 : 0, chunk],
      units,
      work,
    });
  } finally {
    rt.mem.free(packed);
  }
}

/**
 * dx = gradient of conv2d w.r.t. its input (dx += ... when accumulate). For a 3x3 stride-1 conv that is a
 * 3x3 stride-1 conv of dy (winogradBackwardShape), so winogradTileFor decides as for a forward; measured
 * (bench/winograd.ts --backward, 1 thread) 2.2-2.9x faster than im2col at batch 1 and 2.4-3.2x at batch 16
 * on ResNet-18's layers, and at batch 1 with 2 threads 3.4-4.7x, since im2col splits this kernel by sample.
 * `weightStorage` as for conv2dForward (the input gradient's transform is cached under its own key).
 */
export function conv2dBackwardInput(
  rt: WasmRuntime,
  s: Conv2dShape,
  dy: number,
  w: number,
  dx: number,
  accumulate = false,
  algorithm: Conv2dAlgorithm = "auto",
  weightStorage?: WasmStorage,
): void {
  const back = accumulate || algorithm === "im2col" ? null : winogradBackwardShape(s);
  const tile = back === null ? 0 : algorithm === "winograd" ? winogradTile(back) : winogradTileFor(back);
  if (back !== null && tile !== 0) {
    winogradConv2dBackwardInput(rt, s, dy, w, dx, { tile, weightStorage });
    return;
  }
  const g = geom(s);
  const packed = packWeights(rt, g, w, 1);
  try {
    rt.parallel({
      name: "conv2dBackwardInput",
      args: [dy, packed, dx, ...geomArgs(g), accumulate ? 1 : 0],
      units: g.N,
      work: g.N * g.O * g.P * g.Kg,
    });
  } finally {
    rt.mem.free(packed);
  }
}

/**
 * Whether the weight gradient runs as dWᵀ = cols · dyᵀ (M = Kg taps) rather than dW = dy · colsᵀ
 * (M = Og): the normal form pads Og up to whole 5-row panels of the micro-kernel, the transposed one up to
 * whole 8-column panels (and packs cols with scalar moves), so it only pays when that wastes less and Og
 * is small. Measured (docs/performance.md): LeNet (6 and 16 channels) trains 7-10% faster, the CIFAR net
 * (16 transposed, 20 not: 20 would pad to 24 columns and lost 5%) 0-3%.
 */
export function conv2dWeightGradTransposed(Og: number, Kg: number): boolean {
  return Og <= 16 && roundUp(Og, 8) < roundUp(Og, 5) && Kg >= 2 * Og;
}

/** dw = beta*dw + gradient of conv2d w.r.t. its weights (summed over the batch). */
export function conv2dBackwardWeight(
  rt: WasmRuntime,
  s: Conv2dShape,
  x: number,
  dy: number,
  dw: number,
  beta = 0,
  orientation: "auto" | "normal" | "transposed" = "auto",
): void {
  const g = geom(s);
  const work = g.N * g.O * g.P * g.Kg;
  const trans =
    orientation === "auto" ? conv2dWeightGradTransposed(g.O / g.G, g.Kg) : orientation === "transposed";
  const threads = rt.threadsFor(work, g.G * g.Kg, 8);
  // Transposed, a unit is a range of dW rows of the GEMM (taps), best in whole 5-row panels.
  const chunk = g.G >= threads ? g.Kg : roundUp(Math.ceil(g.Kg / threads), trans ? 5 : 8);
  rt.parallel({
    name: "conv2dBackwardWeight",
    args: [x, dy, dw, g.N, ...geomArgs(g), beta, trans ? 1 : 0, chunk],
    units: g.G * Math.ceil(g.Kg / chunk),
    work,
  });
}

/** db[o] = beta*db[o] + sum of dy over batch and pixels. */
export function conv2dBackwardBias(
  rt: WasmRuntime,
  N: number,
  O: number,
  P: number,
  dy: number,
  db: number,
  beta = 0,
): void {
  rt.exports.conv2dBackwardBias(dy, db, N, O, P, beta, 0, O);
}
