// Typed wrappers of the pooling kernels (kernels/pool.ts). Planes = N*C of an NCHW tensor; argmax indices
// are int32 flat positions ih*W + iw within each input plane. Threads split by planes.

import type { AdaptivePool2dGeometry, AvgPool2dGeometry, Backend, Pool2dGeometry } from "../backend.js";
import type { WasmContext } from "./context.js";
import type { GeometryArgs } from "./exports.js";
import type { WasmRuntime } from "./runtime.js";

/** The one place a pool geometry becomes positional numbers: the window, then each kernel's own tail. */
function windowArgs(g: Pool2dGeometry) {
  return [g.inH, g.inW, g.kernelH, g.kernelW, g.strideH, g.strideW, g.padH, g.padW] as const;
}

/** Max pooling's arguments: the window, dilations, OH, OW. */
function maxPoolArgs(g: Pool2dGeometry): GeometryArgs<"maxPool2dForward", 3> {
  return [...windowArgs(g), g.dilationH, g.dilationW, g.outH, g.outW];
}

/** Average pooling's arguments: the window (no dilation), OH, OW, countIncludePad, divisor (0: none). */
function avgPoolArgs(g: AvgPool2dGeometry): GeometryArgs<"avgPool2dForward", 2> {
  if (g.dilationH !== 1 || g.dilationW !== 1) throw new Error("avgPool2d: no dilation");
  const countIncludePad = g.countIncludePad ? 1 : 0;
  return [...windowArgs(g), g.outH, g.outW, countIncludePad, g.divisorOverride ?? 0];
}

const planes = (g: AdaptivePool2dGeometry) => g.batch * g.channels;

/** Pooling is memory-bound: weigh it like a GEMM of similar run time. */
const work = (g: Pool2dGeometry) => planes(g) * g.outH * g.outW * g.kernelH * g.kernelW * 8;

/** y = max-pool(x), idx = argmax (flat ih*W+iw within the plane). */
export function maxPool2dForward(
  rt: WasmRuntime,
  g: Pool2dGeometry,
  x: number,
  y: number,
  idx: number,
): void {
  rt.parallel({
    name: "maxPool2dForward",
    args: [x, y, idx, ...maxPoolArgs(g)],
    units: planes(g),
    work: work(g),
  });
}

/** dx = scatter of dy by idx (dx += ... when accumulate). */
export function maxPool2dBackward(
  rt: WasmRuntime,
  g: Pool2dGeometry,
  dy: number,
  idx: number,
  dx: number,
  accumulate = false,
): void {
  rt.parallel({
    name: "maxPool2dBackward",
    args: [dy, idx, dx, g.inH * g.inW, g.outH * g.outW, accumulate ? 1 : 0],
    units: planes(g),
    work: work(g),
  });
}

export function avgPool2dForward(rt: WasmRuntime, g: AvgPool2dGeometry, x: number, y: number): void {
  rt.parallel({ name: "avgPool2dForward", args: [x, y, ...avgPoolArgs(g)], units: planes(g), work: work(g) });
}

export function avgPool2dBackward(
  rt: WasmRuntime,
  g: AvgPool2dGeometry,
  dy: number,
  dx: number,
  accumulate = false,
): void {
  rt.parallel({
    name: "avgPool2dBackward",
    args: [dy, dx, ...avgPoolArgs(g), accumulate ? 1 : 0],
    units: planes(g),
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
  name: "adaptiveAvgPool2dForward" | "adaptiveAvgPool2dBackward",
  g: AdaptivePool2dGeometry,
  from: number,
  to: number,
): void {
  rt.parallel({
    name,
    args: [from, to, g.inH, g.inW, g.outH, g.outW],
    units: planes(g),
    work: planes(g) * g.inH * g.inW * 8,
  });
}

type PoolMethods = Pick<
  Backend,
  | "maxPool2d"
  | "maxPool2dBackward"
  | "avgPool2d"
  | "avgPool2dBackward"
  | "adaptiveAvgPool2d"
  | "adaptiveAvgPool2dBackward"
>;

/** The Backend's pooling methods (spread into the wasm Backend object); empty outputs never reach a kernel. */
export function createPoolMethods(cx: WasmContext): PoolMethods {
  const { rt, ptr, alloc } = cx;
  // Every pool geometry (max, average, adaptive) has these six sizes.
  const outSize = (g: AdaptivePool2dGeometry) => g.batch * g.channels * g.outH * g.outW;
  const inSize = (g: AdaptivePool2dGeometry) => g.batch * g.channels * g.inH * g.inW;
  return {
    maxPool2d(x, g) {
      const px = ptr(x);
      const y = alloc(x.dtype, outSize(g));
      const indices = alloc("int32", outSize(g));
      if (y.size > 0) maxPool2dForward(rt, g, px, y.ptr, indices.ptr);
      return { y, indices };
    },

    maxPool2dBackward(gy, indices, g) {
      const pg = ptr(gy);
      const pi = ptr(indices);
      if (outSize(g) === 0) return cx.full(gy.dtype, inSize(g), 0);
      const dx = alloc(gy.dtype, inSize(g));
      maxPool2dBackward(rt, g, pg, pi, dx.ptr);
      return dx;
    },

    avgPool2d(x, g) {
      const px = ptr(x);
      const y = alloc(x.dtype, outSize(g));
      if (y.size > 0) avgPool2dForward(rt, g, px, y.ptr);
      return y;
    },

    avgPool2dBackward(gy, g) {
      const pg = ptr(gy);
      if (outSize(g) === 0) return cx.full(gy.dtype, inSize(g), 0);
      const dx = alloc(gy.dtype, inSize(g));
      avgPool2dBackward(rt, g, pg, dx.ptr);
      return dx;
    },

    adaptiveAvgPool2d(x, g) {
      const px = ptr(x);
      const y = alloc(x.dtype, outSize(g));
      if (y.size > 0) adaptiveAvgPool2dForward(rt, g, px, y.ptr);
      return y;
    },

    adaptiveAvgPool2dBackward(gy, g) {
      const pg = ptr(gy);
      const dx = alloc(gy.dtype, inSize(g));
      if (dx.size > 0) adaptiveAvgPool2dBackward(rt, g, pg, dx.ptr);
      return dx;
    },
  };
}
