// Typed wrappers of the conv2d kernels (kernels/conv.ts): forward with fused bias, input gradient,
// weight gradient. NCHW activations, OIHW weights; addresses are byte offsets. They take
// the Backend's Conv2dGeometry as the ops computed it (output size included) and flatten it for the kernels
// in one place, convArgs.

import type { Backend, Conv2dGeometry } from "../backend.js";
import type { WasmContext } from "./context.js";
import type { DropLast, GeometryArgs } from "./exports.js";
import * as dw from "./depthwise.js";
import type { WasmRuntime } from "./runtime.js";
import type { WasmStorage } from "./storage.js";
import { binary } from "./elementwise.js";
import {
  winogradApplies,
  winogradBackwardGeometry,
  winogradConv2dBackwardInput,
  winogradConv2dForward,
  type WinogradTile,
} from "./winograd.js";

/** The geometry parameters of the conv kernels (C … OW), as kernels/conv.ts declares them. */
type ConvArgs = DropLast<GeometryArgs<"conv2dBackwardInput", 3>>;

/** The kernels' geometry arguments: the one place a Conv2dGeometry becomes positional numbers. */
export function convArgs(g: Conv2dGeometry): ConvArgs {
  const [C, H, W, O, KH, KW] = [g.inChannels, g.inH, g.inW, g.outChannels, g.kernelH, g.kernelW];
  return [
    C,
    H,
    W,
    O,
    KH,
    KW,
    g.strideH,
    g.strideW,
    g.padH,
    g.padW,
    g.dilationH,
    g.dilationW,
    g.groups,
    g.outH,
    g.outW,
  ];
}

/** Taps per output value: the GEMM depth Kg = C/G·KH·KW. */
const taps = (g: Conv2dGeometry) => (g.inChannels / g.groups) * g.kernelH * g.kernelW;
/** Output pixels per plane, P = OH·OW. */
const pixels = (g: Conv2dGeometry) => g.outH * g.outW;
/** Multiply-adds of the conv (the work that decides the thread split). */
const macs = (g: Conv2dGeometry) => g.batch * g.outChannels * pixels(g) * taps(g);

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** How conv2dForward computes: "auto" picks by winogradTileFor; the others force a path (tests, benches). */
export type Conv2dAlgorithm = "auto" | "im2col" | "winograd";

function packWeights(rt: WasmRuntime, g: Conv2dGeometry, w: number, trans: 0 | 1): number {
  const floats = rt.exports.conv2dPackedWeightsSize(g.outChannels, taps(g), g.groups, trans);
  const packed = rt.mem.alloc(floats * 4);
  rt.exports.conv2dPackWeights(w, g.outChannels, taps(g), g.groups, trans, packed);
  return packed;
}

/**
 * The Winograd output tile for a conv2d forward (or an input gradient computed as one), or 0 for the im2col
 * GEMM. The cost compared is the GEMM work in micro-kernel columns: (m+r-1)^2 transform positions x tiles
 * (rounded up to the 8-column panel) for F(m x m, r x r), r^2 taps x output pixels for im2col.
 * 5x5 kernels have F(2x2, 5x5) only, under the same rule.
 * The thresholds are fitted to measurements: docs/performance.md, "Kernel choices in the wasm backend".
 */
export function winogradTileFor(g: Conv2dGeometry): WinogradTile | 0 {
  if (!winogradApplies(g) || g.inChannels < 8 || g.outChannels < 8) return 0;
  const m = winogradTile(g);
  const r = g.kernelH;
  return winogradColumns(g, m, r) < 0.7 * r * r * roundUp(g.batch * pixels(g), 8) ? m : 0;
}

function winogradColumns(g: Conv2dGeometry, m: number, r: number): number {
  return (m + r - 1) * (m + r - 1) * roundUp(g.batch * Math.ceil(g.outH / m) * Math.ceil(g.outW / m), 8);
}

/** The faster Winograd tile for this conv (see winogradTileFor); 5x5 kernels have F(2x2, 5x5) only. */
export function winogradTile(g: Conv2dGeometry): WinogradTile {
  if (g.kernelH === 5) return 2;
  return winogradColumns(g, 4, 3) < 0.75 * winogradColumns(g, 2, 3) ? 4 : 2;
}

/**
 * y = conv2d(x, w) (+ bias[O] if bias != 0). `weightStorage`, the storage at `w` when
 * the caller has one, lets Winograd cache the transformed weights between calls (winograd-cache.ts).
 */
export function conv2dForward(
  rt: WasmRuntime,
  g: Conv2dGeometry,
  x: number,
  w: number,
  bias: number,
  y: number,
  algorithm: Conv2dAlgorithm = "auto",
  weightStorage?: WasmStorage,
): void {
  const tile = algorithm === "im2col" ? 0 : algorithm === "winograd" ? winogradTile(g) : winogradTileFor(g);
  if (tile !== 0) {
    winogradConv2dForward(rt, g, x, w, bias, y, { tile, weightStorage });
    return;
  }
  const packed = packWeights(rt, g, w, 0);
  try {
    forwardPacked(rt, g, x, packed, bias, y);
  } finally {
    rt.mem.free(packed);
  }
}

/**
 * dx = gradient of conv2d w.r.t. its input (dx += ... when accumulate). For a 3x3 stride-1 conv that is a
 * 3x3 stride-1 conv of dy (winogradBackwardGeometry), so winogradTileFor decides as for a forward
 * (2.2-4.7x faster than im2col on ResNet-18's layers: docs/performance.md).
 * `weightStorage` as for conv2dForward (the input gradient's transform is cached under its own key).
 * Otherwise it runs on the im2col GEMM in the form `im2colForm` (Conv2dBackwardInputForm, dgradAsForward).
 */
export function conv2dBackwardInput(
  rt: WasmRuntime,
  g: Conv2dGeometry,
  dy: number,
  w: number,
  dx: number,
  accumulate = false,
  algorithm: Conv2dAlgorithm = "auto",
  weightStorage?: WasmStorage,
  im2colForm: Conv2dBackwardInputForm = "auto",
): void {
  const back = accumulate || algorithm === "im2col" ? null : winogradBackwardGeometry(g);
  const tile = back === null ? 0 : algorithm === "winograd" ? winogradTile(back) : winogradTileFor(back);
  if (back !== null && tile !== 0) {
    winogradConv2dBackwardInput(rt, g, dy, w, dx, { tile, weightStorage });
    return;
  }
  if (im2colForm === "forward" || (im2colForm === "auto" && dgradAsForward(rt, g))) {
    conv2dBackwardInputAsForward(rt, g, dy, w, dx, accumulate);
    return;
  }
  const packed = packWeights(rt, g, w, 1);
  try {
    rt.parallel({
      name: "conv2dBackwardInput",
      args: [dy, packed, dx, ...convArgs(g), accumulate ? 1 : 0],
      units: g.batch,
      work: macs(g),
    });
  } finally {
    rt.mem.free(packed);
  }
}

/**
 * How conv2dBackwardInput computes when Winograd does not: "scatter" is dcols = Wᵀ·dy with the col2im
 * scatter fused into the GEMM's store, "forward" the stride-1 input gradient as a forward conv of dy
 * (dgradForwardGeometry), "auto" picks by dgradAsForward. Forcing is for tests and benches.
 */
export type Conv2dBackwardInputForm = "auto" | "scatter" | "forward";

/**
 * The forward conv whose output is the input gradient of conv `g`, or null when there is none: for stride 1,
 * dx = conv2d(dy, W') with padding d·(k−1) − p (so p ≤ d·(k−1)), the same dilation and groups, and
 * W' = conv2dFlipWeights(W). Its output size is H x W: a conv-transpose's explicit OH/OW may leave input
 * rows that no dy row reaches, which the forward's padded copy then fills with zeros.
 */
export function dgradForwardGeometry(g: Conv2dGeometry): Conv2dGeometry | null {
  const padH = g.dilationH * (g.kernelH - 1) - g.padH;
  const padW = g.dilationW * (g.kernelW - 1) - g.padW;
  if (g.strideH !== 1 || g.strideW !== 1 || padH < 0 || padW < 0) return null;
  return {
    ...g,
    ...{ inChannels: g.outChannels, inH: g.outH, inW: g.outW, outChannels: g.inChannels },
    ...{ outH: g.inH, outW: g.inW, padH, padW },
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
export function dgradAsForward(rt: WasmRuntime, g: Conv2dGeometry): boolean {
  const f = dgradForwardGeometry(g);
  if (f === null) return false;
  const Og = g.outChannels / g.groups;
  const scatter = panelRows(taps(g)) * pixels(g) * (Og + 8);
  const forward = Og * g.kernelH * g.kernelW * g.inH * g.inW * (panelRows(g.inChannels / g.groups) + 2);
  const scatterThreads = rt.threadsFor(macs(g), g.batch);
  const forwardThreads = rt.threadsFor(macs(f), forwardSplit(rt, f).units);
  return forward / forwardThreads <= scatter / scatterThreads;
}

/** Rows the GEMM computes for M rows: whole 5-row panels, a tail of 1-2 rows costs 2 (micro2x8). */
function panelRows(M: number): number {
  const tail = M % 5;
  return M - tail + (tail === 0 ? 0 : tail <= 2 ? 2 : 5);
}

/**
 * dx (+)= the input gradient of stride-1 conv `g` as the forward conv dgradForwardGeometry(g), on the im2col
 * kernel (whether Winograd pays was decided before, by conv2dBackwardInput). The flipped weights are
 * packed straight into the forward's A panels. The forward kernel only writes, so accumulating goes
 * through a temporary and an add (1-6 % more; no caller on the training path accumulates).
 */
function conv2dBackwardInputAsForward(
  rt: WasmRuntime,
  g: Conv2dGeometry,
  dy: number,
  w: number,
  dx: number,
  accumulate: boolean,
): void {
  const f = dgradForwardGeometry(g);
  if (f === null) {
    throw new Error(
      `conv2dBackwardInput: the forward form needs stride 1 and padding <= dilation*(kernel-1); got ${JSON.stringify(g)}`,
    );
  }
  const packed = rt.mem.alloc(rt.exports.conv2dPackedWeightsSize(f.outChannels, taps(f), f.groups, 0) * 4);
  const size = g.batch * g.inChannels * g.inH * g.inW;
  const out = accumulate ? rt.mem.alloc(size * 4) : dx;
  try {
    const Cg = g.inChannels / g.groups;
    rt.exports.conv2dPackFlippedWeights(w, g.outChannels, Cg, g.kernelH * g.kernelW, g.groups, packed);
    forwardPacked(rt, f, dy, packed, 0, out);
    if (accumulate) binary(rt, "add", dx, [size], out, [size], dx);
  } finally {
    rt.mem.free(packed);
    if (accumulate) rt.mem.free(out);
  }
}

/**
 * y = conv2d(x, packed weights) (+ bias if bias != 0) on the im2col kernel.
 */
function forwardPacked(
  rt: WasmRuntime,
  g: Conv2dGeometry,
  x: number,
  packed: number,
  bias: number,
  y: number,
): void {
  const { chunk, units } = forwardSplit(rt, g);
  rt.parallel({
    name: "conv2dForward",
    args: [x, packed, bias, y, g.batch, ...convArgs(g), chunk],
    units,
    work: macs(g),
  });
}

/**
 * Output pixels per unit and units of a forward conv: whole samples per unit when there are enough of
 * them for the threads; otherwise each sample's pixels split in ranges.
 */
function forwardSplit(rt: WasmRuntime, g: Conv2dGeometry): { chunk: number; units: number } {
  const P = pixels(g);
  const threads = rt.threadsFor(macs(g), g.batch * P, 8);
  const chunk = g.batch >= threads ? P : roundUp(Math.ceil(P / threads), 8);
  return { chunk, units: g.batch * Math.ceil(P / chunk) };
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
  g: Conv2dGeometry,
  x: number,
  dy: number,
  dw: number,
  beta = 0,
  orientation: "auto" | "normal" | "transposed" = "auto",
): void {
  const Kg = taps(g);
  const trans =
    orientation === "auto"
      ? conv2dWeightGradTransposed(g.outChannels / g.groups, Kg)
      : orientation === "transposed";
  const threads = rt.threadsFor(macs(g), g.groups * Kg, 8);
  // Transposed, a unit is a range of dW rows of the GEMM (taps), best in whole 5-row panels.
  const chunk = g.groups >= threads ? Kg : roundUp(Math.ceil(Kg / threads), trans ? 5 : 8);
  rt.parallel({
    name: "conv2dBackwardWeight",
    args: [x, dy, dw, g.batch, ...convArgs(g), beta, trans ? 1 : 0, chunk],
    units: g.groups * Math.ceil(Kg / chunk),
    work: macs(g),
  });
}

type ConvMethods = Pick<Backend, "conv2d" | "conv2dBackwardInput" | "conv2dBackwardWeight">;

/** groups == C (with any channel multiplier): the direct depthwise kernels beat a GEMM per channel. */
const isDepthwise = (g: Conv2dGeometry) =>
  g.groups > 1 && g.groups === g.inChannels && g.outChannels % g.inChannels === 0;

/** The Backend's conv methods (spread into the wasm Backend object); empty convs never reach a kernel. */
export function createConvMethods(cx: WasmContext): ConvMethods {
  const { rt, ptr, alloc } = cx;
  return {
    conv2d(x, w, bias, g) {
      const px = ptr(x);
      const pw = ptr(w);
      const pb = bias ? ptr(bias) : 0;
      const out = alloc(x.dtype, g.batch * g.outChannels * g.outH * g.outW);
      if (out.size === 0) return out;
      // ptr(w) checked that w is a WasmStorage: its identity keys the Winograd weight cache.
      if (isDepthwise(g)) dw.depthwiseConv2dForward(rt, g, px, pw, pb, out.ptr);
      else conv2dForward(rt, g, px, pw, pb, out.ptr, "auto", w as WasmStorage);
      return out;
    },

    conv2dBackwardInput(gy, w, g) {
      const pg = ptr(gy);
      const pw = ptr(w);
      const size = g.batch * g.inChannels * g.inH * g.inW;
      if (g.batch * g.outChannels * g.outH * g.outW === 0) return cx.full(gy.dtype, size, 0);
      const out = alloc(gy.dtype, size);
      if (isDepthwise(g)) dw.depthwiseConv2dBackwardInput(rt, g, pg, pw, out.ptr);
      else conv2dBackwardInput(rt, g, pg, pw, out.ptr, false, "auto", w as WasmStorage);
      return out;
    },

    conv2dBackwardWeight(x, gy, g) {
      const px = ptr(x);
      const pg = ptr(gy);
      const size = g.outChannels * (g.inChannels / g.groups) * g.kernelH * g.kernelW;
      if (g.batch * g.outH * g.outW === 0) return cx.full(x.dtype, size, 0);
      const out = alloc(x.dtype, size);
      if (isDepthwise(g)) dw.depthwiseConv2dBackwardWeight(rt, g, px, pg, out.ptr, 0);
      else conv2dBackwardWeight(rt, g, px, pg, out.ptr);
      return out;
    },
  };
}
