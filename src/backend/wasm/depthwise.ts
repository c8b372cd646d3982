// Typed wrappers of the direct depthwise conv2d kernels (kernels/depthwise.ts): groups == C, O = C*mult,
// weights [O][1][KH][KW]. Threads split output planes (forward), input planes (input gradient) or
// channels (weight gradient).

import type { Conv2dGeometry } from "../backend.js";
import type { DropLast, GeometryArgs } from "./exports.js";
import type { WasmRuntime } from "./runtime.js";

/** The geometry parameters of the depthwise kernels (C … OW), as kernels/depthwise.ts declares them. */
type DepthwiseArgs = DropLast<GeometryArgs<"depthwiseConv2dBackwardInput", 3>>;

/** The kernels' geometry arguments: the one place a Conv2dGeometry becomes their positional numbers. */
function depthwiseArgs(g: Conv2dGeometry): DepthwiseArgs {
  if (g.groups !== g.inChannels || g.outChannels % g.inChannels !== 0) {
    throw new Error(
      `depthwiseConv2d: needs groups == C (${g.groups} vs ${g.inChannels}) and O a multiple of C`,
    );
  }
  const [C, H, W, O, KH, KW] = [g.inChannels, g.inH, g.inW, g.outChannels, g.kernelH, g.kernelW];
  return [C, H, W, O, KH, KW, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.outH, g.outW];
}

// Direct kernels do ~4x less per multiply-add than the GEMM, so weigh their work up for the threshold.
const WEIGHT = 4;
const work = (g: Conv2dGeometry) =>
  WEIGHT * g.batch * g.outChannels * g.outH * g.outW * g.kernelH * g.kernelW;

export function depthwiseConv2dForward(
  rt: WasmRuntime,
  g: Conv2dGeometry,
  x: number,
  w: number,
  bias: number,
  y: number,
): void {
  rt.parallel({
    name: "depthwiseConv2dForward",
    args: [x, w, bias, y, ...depthwiseArgs(g)],
    units: g.batch * g.outChannels,
    work: work(g),
  });
}

export function depthwiseConv2dBackwardInput(
  rt: WasmRuntime,
  g: Conv2dGeometry,
  dy: number,
  w: number,
  dx: number,
  accumulate = false,
): void {
  rt.parallel({
    name: "depthwiseConv2dBackwardInput",
    args: [dy, w, dx, ...depthwiseArgs(g), accumulate ? 1 : 0],
    units: g.batch * g.inChannels,
    work: work(g),
  });
}

/** dw = beta*dw + weight gradient; db (if not 0) = beta*db + bias gradient. */
export function depthwiseConv2dBackwardWeight(
  rt: WasmRuntime,
  g: Conv2dGeometry,
  x: number,
  dy: number,
  dw: number,
  db: number,
  beta = 0,
): void {
  rt.parallel({
    name: "depthwiseConv2dBackwardWeight",
    args: [x, dy, dw, db, g.batch, ...depthwiseArgs(g), beta],
    units: g.outChannels,
    work: work(g),
  });
}
