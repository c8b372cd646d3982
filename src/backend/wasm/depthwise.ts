// Typed wrappers of the direct depthwise conv2d kernels (kernels/depthwise.ts): groups == C, O = C*mult,
// weights [O][1][KH][KW]. Threads split output planes (forward), input planes (input gradient) or
// channels (weight gradient).

import { conv2dOutputSize, type Conv2dShape } from "./conv.js";
import type { WasmRuntime } from "./runtime.js";

function args(s: Conv2dShape): { list: number[]; OH: number; OW: number } {
  if ((s.groups ?? 1) !== s.C || s.O % s.C !== 0) {
    throw new Error(`depthwiseConv2d: needs groups == C (${s.groups} vs ${s.C}) and O a multiple of C`);
  }
  const { OH, OW } = conv2dOutputSize(s);
  const list = [
    ...[s.C, s.H, s.W, s.O, s.KH, s.KW, s.strideH ?? 1, s.strideW ?? 1, s.padH ?? 0, s.padW ?? 0],
    ...[s.dilationH ?? 1, s.dilationW ?? 1, OH, OW],
  ];
  return { list, OH, OW };
}

// Direct kernels do ~4x less per multiply-add than the GEMM, so weigh their work up for the threshold.
const WEIGHT = 4;

export function depthwiseConv2dForward(
  rt: WasmRuntime,
  s: Conv2dShape,
  x: number,
  w: number,
  bias: number,
  y: number,
  relu = false,
): void {
  const a = args(s);
  rt.parallel({
    name: "depthwiseConv2dForward",
    args: [x, w, bias, y, ...a.list, relu ? 1 : 0],
    units: s.N * s.O,
    work: WEIGHT * s.N * s.O * a.OH * a.OW * s.KH * s.KW,
  });
}

export function depthwiseConv2dBackwardInput(
  rt: WasmRuntime,
  s: Conv2dShape,
  dy: number,
  w: number,
  dx: number,
  accumulate = false,
): void {
  const a = args(s);
  rt.parallel({
    name: "depthwiseConv2dBackwardInput",
    args: [dy, w, dx, ...a.list, accumulate ? 1 : 0],
    units: s.N * s.C,
    work: WEIGHT * s.N * s.O * a.OH * a.OW * s.KH * s.KW,
  });
}

/** dw = beta*dw + weight gradient; db (if not 0) = beta*db + bias gradient. */
export function depthwiseConv2dBackwardWeight(
  rt: WasmRuntime,
  s: Conv2dShape,
  x: number,
  dy: number,
  dw: number,
  db: number,
  beta = 0,
): void {
  const a = args(s);
  rt.parallel({
    name: "depthwiseConv2dBackwardWeight",
    args: [x, dy, dw, db, s.N, ...a.list, beta],
    units: s.O,
    work: WEIGHT * s.N * s.O * a.OH * a.OW * s.KH * s.KW,
  });
}
