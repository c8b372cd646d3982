// Typed wrappers of the conv2d kernels (kernels/conv.ts): forward with fused bias/ReLU, input gradient,
// weight gradient and bias gradient. NCHW activations, OIHW weights; addresses are byte offsets.

import type { WasmRuntime } from "./runtime.js";
import type { WasmStorage } from "./storage.js";
import { binary } from "./elementwise.js";
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
 * GEMM. The cost compared is the GEMM work in micro-kernel columns: (m+r-1)^2 transform positions x tiles
 * (rounded up to the 8-column panel) for F(m x m, r x r), r^2 taps x output pixels for im2col.
 * 5x5 kernels have F(2x2, 5x5) only, under the same rule.
 * The thresholds are fitted to measurements: docs/performance.md, "Kernel choices in the wasm backend".
 */
export function winogradTileFor(s: Conv2dShape): WinogradTile | 0 {
  if (!winogradApplies(s) || s.C < 8 || s.O < 8) return 0;
  const { OH, OW } = conv2dOutputSize(s);
  const m = winogradTile(s);
  const r = s.KH;
  return winogradColumns(s.N, OH, OW, m, r) < 0.7 * r * r * roundUp(s.N * OH * OW, 8) ? m : 0;
}

function winogradColumns(N: number, OH: number, OW: number, m: number, r: number): number {
  return (m + r - 1) * (m + r - 1) * roundUp(N * Math.ceil(OH / m) * Math.ceil(OW / m), 8);
}

/** The faster Winograd tile for this conv (see winogradTileFor); 5x5 kernels have F(2x2, 5x5) only. */
export function winogradTile(s: Conv2dShape): WinogradTile {
  if (s.KH === 5) return 2;
  const { OH, OW } = conv2dOutputSize(s);
  return winogradColumns(s.N, OH, OW, 4, 3) < 0.75 * winogradColumns(s.N, OH, OW, 2, 3) ? 4 : 2;
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
  const packed = packWeights(rt, g, w, 0);
  try {
    forwardPacked(rt, g, x, packed, bias, y, relu);
  } finally {
    rt.mem.free(packed);
  }
}

/**
 * dx = gradient of conv2d w.r.t. its input (dx += ... when accumulate). For a 3x3 stride-1 conv that is a
 * 3x3 stride-1 conv of dy (winogradBackwardShape), so winogradTileFor decides as for a forward
 * (2.2-4.7x faster than im2col on ResNet-18's layers: docs/performance.md).
 * `weightStorage` as for conv2dForward (the input gradient's transform is cached under its own key).
 * Otherwise it runs on the im2col GEMM in the form `im2colForm` (Conv2dBackwardInputForm, dgradAsForward).
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
  im2colForm: Conv2dBackwardInputForm = "auto",
): void {
  const back = accumulate || algorithm === "im2col" ? null : winogradBackwardShape(s);
  const tile = back === null ? 0 : algorithm === "winograd" ? winogradTile(back) : winogradTileFor(back);
  if (back !== null && tile !== 0) {
    winogradConv2dBackwardInput(rt, s, dy, w, dx, { tile, weightStorage });
    return;
  }
  if (im2colForm === "forward" || (im2colForm === "auto" && dgradAsForward(rt, s))) {
    conv2dBackwardInputAsForward(rt, s, dy, w, dx, accumulate);
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
 * How conv2dBackwardInput computes when Winograd does not: "scatter" is dcols = Wᵀ·dy with the col2im
 * scatter fused into the GEMM's store, "forward" the stride-1 input gradient as a forward conv of dy
 * (dgradForwardShape), "auto" picks by dgradAsForward. Forcing is for tests and benches.
 */
export type Conv2dBackwardInputForm = "auto" | "scatter" | "forward";

/**
 * The forward conv whose output is the input gradient of conv `s`, or null when there is none: for stride 1,
 * dx = conv2d(dy, W') with padding d·(k−1) − p (so p ≤ d·(k−1)), the same dilation and groups, and
 * W' = conv2dFlipWeights(W). Its output size is given as H x W explicitly: a conv-transpose's explicit OH/OW
 * may leave input rows that no dy row reaches, which the forward's padded copy then fills with zeros.
 */
export function dgradForwardShape(s: Conv2dShape): Conv2dShape | null {
  const g = geom(s);
  const ph = g.dh * (g.KH - 1) - g.ph;
  const pw = g.dw * (g.KW - 1) - g.pw;
  if (g.sh !== 1 || g.sw !== 1 || ph < 0 || pw < 0) return null;
  return {
    ...{ N: g.N, C: g.O, H: g.OH, W: g.OW, O: g.C, KH: g.KH, KW: g.KW, padH: ph, padW: pw },
    ...{ dilationH: g.dh, dilationW: g.dw, groups: g.G, OH: g.H, OW: g.W },
  };
}

/**
 * Whether conv2dBackwardInput's "auto" computes the input gradient as a forward conv of dy: when a cost
 * model, per thread, says the forward form is faster. Costs count the rows each GEMM really computes
 * (panelRows: whole 5-row panels, micro2x8 for 1-2 row tails), in multiply-add units:
 * - scatter: panelRows(Kg)·P·(Og + 8): depth Og, plus ~8 per dcols element for the tile's scatter-add;
 * - forward: Og·KH·KW·H·W·(panelRows(Cg) + 2): every im2col element of dy (padding zeros included: a 5x5
 *   conv without padding reads 14x14 windows of a 10x10 dy) times the rows, plus ~2 to pack it.
 * The constants are a least-squares fit of measured ratios (docs/performance.md, "Kernel choices in the wasm
 * backend"): the model picks the faster form wherever the two differ by more than ~10 %.
 * The scatter form splits threads by sample only, the forward form also by pixel ranges (batch < threads).
 */
export function dgradAsForward(rt: WasmRuntime, s: Conv2dShape): boolean {
  const f = dgradForwardShape(s);
  if (f === null) return false;
  const g = geom(s);
  const Og = g.O / g.G;
  const KK = g.KH * g.KW;
  const scatter = panelRows(g.Kg) * g.P * (Og + 8);
  const forward = Og * KK * g.H * g.W * (panelRows(g.C / g.G) + 2);
  const fg = geom(f);
  const scatterThreads = rt.threadsFor(g.N * g.O * g.P * g.Kg, g.N);
  const forwardThreads = rt.threadsFor(fg.N * fg.O * fg.P * fg.Kg, forwardSplit(rt, fg).units);
  return forward / forwardThreads <= scatter / scatterThreads;
}

/** Rows the GEMM computes for M rows: whole 5-row panels, a tail of 1-2 rows costs 2 (micro2x8). */
function panelRows(M: number): number {
  const tail = M % 5;
  return M - tail + (tail === 0 ? 0 : tail <= 2 ? 2 : 5);
}

/**
 * dx (+)= the input gradient of stride-1 conv `s` as the forward conv dgradForwardShape(s), on the im2col
 * kernel (whether Winograd pays was decided before, by conv2dBackwardInput). The flipped weights are
 * packed straight into the forward's A panels. The forward kernel only writes, so accumulating goes
 * through a temporary and an add (1-6 % more; no caller on the training path accumulates).
 */
function conv2dBackwardInputAsForward(
  rt: WasmRuntime,
  s: Conv2dShape,
  dy: number,
  w: number,
  dx: number,
  accumulate: boolean,
): void {
  const f = dgradForwardShape(s);
  if (f === null) {
    throw new Error(
      `conv2dBackwardInput: the forward form needs stride 1 and padding <= dilation*(kernel-1); got ${JSON.stringify(s)}`,
    );
  }
  const g = geom(s);
  const fg = geom(f);
  const packed = rt.mem.alloc(rt.exports.conv2dPackedWeightsSize(fg.O, fg.Kg, fg.G, 0) * 4);
  const size = g.N * g.C * g.H * g.W;
  const out = accumulate ? rt.mem.alloc(size * 4) : dx;
  try {
    rt.exports.conv2dPackFlippedWeights(w, g.O, g.C / g.G, g.KH * g.KW, g.G, packed);
    forwardPacked(rt, fg, dy, packed, 0, out, false);
    if (accumulate) binary(rt, "add", dx, [size], out, [size], dx);
  } finally {
    rt.mem.free(packed);
    if (accumulate) rt.mem.free(out);
  }
}

/**
 * y = conv2d(x, packed weights) (+ bias if bias != 0) (then ReLU if relu) on the im2col kernel.
 */
function forwardPacked(
  rt: WasmRuntime,
  g: Geom,
  x: number,
  packed: number,
  bias: number,
  y: number,
  relu: boolean,
): void {
  const { chunk, units } = forwardSplit(rt, g);
  rt.parallel({
    name: "conv2dForward",
    args: [x, packed, bias, y, g.N, ...geomArgs(g), relu ? 1 : 0, chunk],
    units,
    work: g.N * g.O * g.P * g.Kg,
  });
}

/**
 * Output pixels per unit and units of a forward conv: whole samples per unit when there are enough of
 * them for the threads; otherwise each sample's pixels split in ranges.
 */
function forwardSplit(rt: WasmRuntime, g: Geom): { chunk: number; units: number } {
  const threads = rt.threadsFor(g.N * g.O * g.P * g.Kg, g.N * g.P, 8);
  const chunk = g.N >= threads ? g.P : roundUp(Math.ceil(g.P / threads), 8);
  return { chunk, units: g.N * Math.ceil(g.P / chunk) };
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
