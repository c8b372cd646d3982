// Typed wrappers of the pooling kernels (kernels/pool.ts). Planes = N*C of an NCHW tensor; argmax indices
// are int32 flat positions ih*W + iw within each input plane. Threads split by planes.

import type { AdaptivePool2dGeometry } from "../backend.js";
import type { WasmRuntime } from "./runtime.js";

export interface Pool2dShape {
  /** Number of H x W planes (N*C). */
  planes: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  /** Default: the kernel size (as in PyTorch). */
  strideH?: number;
  strideW?: number;
  padH?: number;
  padW?: number;
  dilationH?: number;
  dilationW?: number;
  ceilMode?: boolean;
  /** Output size when the caller has computed it (then padding and ceilMode are not re-checked). */
  OH?: number;
  OW?: number;
}

export interface AvgPoolOptions {
  countIncludePad?: boolean;
  divisorOverride?: number;
}

function outSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // PyTorch: with ceil_mode the last window must start inside the input or its left padding.
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

interface Geom {
  planes: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  OH: number;
  OW: number;
}

function geom(s: Pool2dShape): Geom {
  const sh = s.strideH ?? s.KH;
  const sw = s.strideW ?? s.KW;
  const ph = s.padH ?? 0;
  const pw = s.padW ?? 0;
  const dh = s.dilationH ?? 1;
  const dw = s.dilationW ?? 1;
  const given = s.OH !== undefined && s.OW !== undefined;
  if (!given && (ph > Math.floor(((s.KH - 1) * dh + 1) / 2) || pw > Math.floor(((s.KW - 1) * dw + 1) / 2))) {
    throw new Error("pool2d: padding must be at most half the (dilated) kernel size");
  }
  const OH = s.OH ?? outSize(s.H, s.KH, sh, ph, dh, !!s.ceilMode);
  const OW = s.OW ?? outSize(s.W, s.KW, sw, pw, dw, !!s.ceilMode);
  if (OH <= 0 || OW <= 0) throw new Error(`pool2d: empty output ${OH}x${OW}`);
  return { planes: s.planes, H: s.H, W: s.W, KH: s.KH, KW: s.KW, sh, sw, ph, pw, dh, dw, OH, OW };
}

export function pool2dOutputSize(s: Pool2dShape): { OH: number; OW: number } {
  const g = geom(s);
  return { OH: g.OH, OW: g.OW };
}

function work(g: Geom): number {
  // Pooling is memory-bound: weigh it like a GEMM of similar run time.
  return g.planes * g.OH * g.OW * g.KH * g.KW * 8;
}

/** y = max-pool(x), idx = argmax (flat ih*W+iw within the plane). */
export function maxPool2dForward(rt: WasmRuntime, s: Pool2dShape, x: number, y: number, idx: number): void {
  const g = geom(s);
  rt.parallel({
    name: "maxPool2dForward",
    args: [x, y, idx, g.H, g.W, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.OH, g.OW],
    units: g.planes,
    work: work(g),
  });
}

/** dx = scatter of dy by idx (dx += ... when accumulate). */
export function maxPool2dBackward(
  rt: WasmRuntime,
  s: Pool2dShape,
  dy: number,
  idx: number,
  dx: number,
  accumulate = false,
): void {
  const g = geom(s);
  rt.parallel({
    name: "maxPool2dBackward",
    args: [dy, idx, dx, g.H * g.W, g.OH * g.OW, accumulate ? 1 : 0],
    units: g.planes,
    work: work(g),
  });
}

function avgArgs(g: Geom, o: AvgPoolOptions): number[] {
  if (g.dh !== 1 || g.dw !== 1) throw new Error("avgPool2d: no dilation");
  const cip = (o.countIncludePad ?? true) ? 1 : 0;
  return [g.H, g.W, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, cip, o.divisorOverride ?? 0];
}

export function avgPool2dForward(
  rt: WasmRuntime,
  s: Pool2dShape,
  x: number,
  y: number,
  o: AvgPoolOptions = {},
): void {
  const g = geom(s);
  rt.parallel({ name: "avgPool2dForward", args: [x, y, ...avgArgs(g, o)], units: g.planes, work: work(g) });
}

export function avgPool2dBackward(
  rt: WasmRuntime,
  s: Pool2dShape,
  dy: number,
  dx: number,
  o: AvgPoolOptions = {},
  accumulate = false,
): void {
  const g = geom(s);
  rt.parallel({
    name: "avgPool2dBackward",
    args: [dy, dx, ...avgArgs(g, o), accumulate ? 1 : 0],
    units: g.planes,
    work: work(g),
  });
}

/** Adaptive average pooling of the N*C planes of g to outH x outW cells (PyTorch's cell rule). */
export function adaptiveAvgPool2dForward(
  rt: WasmRuntime,
  g: AdaptivePool2dGeometry,
  x: number,
  y: number,
): void {
  adaptiveCall(rt, "adaptiveAvgPool2dForward", g, x, y);
}

export function adaptiveAvgPool2dBackward(
  rt: WasmRuntime,
  g: AdaptivePool2dGeometry,
  dy: number,
  dx: number,
): void {
  adaptiveCall(rt, "adaptiveAvgPool2dBackward", g, dy, dx);
}

/** Both adaptive kernels take (from, to, H, W, OH, OW) over planes. */
function adaptiveCall(
  rt: WasmRuntime,
  name: string,
  g: AdaptivePool2dGeometry,
  from: number,
  to: number,
): void {
  const planes = g.batch * g.channels;
  rt.parallel({
    name,
    args: [from, to, g.inH, g.inW, g.outH, g.outW],
    units: planes,
    work: planes * g.inH * g.inW * 8,
  });
}
