// Pooling over NCHW: max (with argmax indices), average (torch's count_include_pad and ceil_mode rules),
// adaptive average and max, global average and max.

import type { AdaptivePool2dGeometry, AvgPool2dGeometry, Pool2dGeometry } from "../backend/backend.js";
import { registerRules, type Rule } from "../autograd/primitive.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatShape, pair } from "../tensor/shape.js";
import { checkAllocatable, checkFloat, checkOptionKeys, wrapLike } from "./util.js";
import type { Size2 } from "./conv.js";
import { max, mean } from "./reduce.js";
import { concat, slice } from "./movement.js";

/**
 * Options of `maxPool2d` (torch's): `stride` (default kernelSize), `padding` (default 0), `dilation` (default
 * 1), `ceilMode` (default false).
 */
export interface MaxPool2dOptions {
  /** Defaults to kernelSize. */
  stride?: Size2 | null;
  padding?: Size2;
  dilation?: Size2;
  ceilMode?: boolean;
}

/**
 * Options of `avgPool2d` (torch's): `stride` (default kernelSize), `padding` (default 0), `ceilMode` (default
 * false), `countIncludePad` (default true), `divisorOverride` (default null: the window size).
 */
export interface AvgPool2dOptions {
  stride?: Size2 | null;
  padding?: Size2;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

function pooledSize(
  inSize: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation: number,
  ceil: boolean,
): number {
  const span = dilation * (kernel - 1) + 1;
  const numerator = inSize + 2 * pad - span;
  let out = (ceil ? Math.ceil(numerator / stride) : Math.floor(numerator / stride)) + 1;
  // With ceil_mode the last window must start inside the input or the left padding.
  if (ceil && (out - 1) * stride >= inSize + pad) out--;
  return out;
}

function poolGeometry(
  op: string,
  x: Tensor,
  kernelSize: Size2,
  options: { stride?: Size2 | null; padding?: Size2; dilation?: Size2; ceilMode?: boolean },
): Pool2dGeometry {
  checkFloat(op, x);
  if (x.ndim !== 4) throw new Error(`${op}: input must be 4-D NCHW, got ${formatShape(x.shape)}`);
  const [kernelH, kernelW] = pair(kernelSize, "kernelSize", op);
  const [strideH, strideW] = pair(options.stride ?? kernelSize, "stride", op);
  const [padH, padW] = pair(options.padding ?? 0, "padding", op);
  const [dilationH, dilationW] = pair(options.dilation ?? 1, "dilation", op);
  if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1) {
    throw new Error(
      `${op}: kernelSize, stride and dilation must be positive (kernel ${kernelH}x${kernelW}, stride ${strideH}x${strideW})`,
    );
  }
  if (padH < 0 || padW < 0 || 2 * padH > kernelH || 2 * padW > kernelW) {
    throw new Error(
      `${op}: padding [${padH},${padW}] must be between 0 and half the kernel size ${kernelH}x${kernelW}`,
    );
  }
  const [batch, channels, inH, inW] = x.shape;
  const outH = pooledSize(inH, kernelH, strideH, padH, dilationH, options.ceilMode ?? false);
  const outW = pooledSize(inW, kernelW, strideW, padW, dilationW, options.ceilMode ?? false);
  if (outH < 1 || outW < 1) {
    throw new Error(
      `${op}: kernel ${kernelH}x${kernelW} with padding [${padH},${padW}] is larger than the input ${formatShape(x.shape)}`,
    );
  }
  return {
    batch,
    channels,
    inH,
    inW,
    outH,
    outW,
    kernelH,
    kernelW,
    strideH,
    strideW,
    padH,
    padW,
    dilationH,
    dilationW,
  };
}

const rules = {
  maxPool2d: {
    // The argmax indices route each gradient to its window's maximum (and are maxPool2dWithIndices' result).
    forward: ([x], geom, save) => {
      const { y, indices } = x.backend.maxPool2d(x.storage, geom);
      const shape = [geom.batch, geom.channels, geom.outH, geom.outW];
      save(wrapLike(x, indices, shape));
      return wrapLike(x, y, shape);
    },
    backward: (g, [x], _y, geom, indices) => [
      wrapLike(x, x.backend.maxPool2dBackward(g.storage, indices.storage, geom), x.shape),
    ],
  } satisfies Rule<Pool2dGeometry, Tensor>,
  avgPool2d: {
    forward: ([x], geom) =>
      wrapLike(x, x.backend.avgPool2d(x.storage, geom), [geom.batch, geom.channels, geom.outH, geom.outW]),
    backward: (g, [x], _y, geom) => [wrapLike(x, x.backend.avgPool2dBackward(g.storage, geom), x.shape)],
  } satisfies Rule<AvgPool2dGeometry>,
  adaptiveAvgPool2d: {
    forward: ([x], geom) => {
      const y = x.backend.adaptiveAvgPool2d(x.storage, geom);
      return wrapLike(x, y, [geom.batch, geom.channels, geom.outH, geom.outW]);
    },
    backward: (g, [x], _y, geom) => {
      const dx = x.backend.adaptiveAvgPool2dBackward(g.storage, geom);
      return [wrapLike(x, dx, x.shape)];
    },
  } satisfies Rule<AdaptivePool2dGeometry>,
};

const apply = registerRules(rules);

/** The primitives this family records (part of the `Primitive` union, ops/primitives.ts). */
export type PoolPrimitive = keyof typeof rules;

/**
 * Max pooling like torch.nn.functional.max_pool2d. Padding counts as -infinity.
 * @returns [N, C, outH, outW]
 */
export function maxPool2d(x: Tensor, kernelSize: Size2, options: MaxPool2dOptions = {}): Tensor {
  checkOptionKeys("maxPool2d", options, ["stride", "padding", "dilation", "ceilMode"]);
  return apply("maxPool2d", [x], poolGeometry("maxPool2d", x, kernelSize, options));
}

/** Max pooling that also returns the int32 argmax indices (flat h*W+w within each input plane). */
export function maxPool2dWithIndices(
  x: Tensor,
  kernelSize: Size2,
  options: MaxPool2dOptions = {},
): { output: Tensor; indices: Tensor } {
  checkOptionKeys("maxPool2d", options, ["stride", "padding", "dilation", "ceilMode"]);
  const { output, saved } = apply.withSaved(
    "maxPool2d",
    [x],
    poolGeometry("maxPool2d", x, kernelSize, options),
  );
  return { output, indices: saved };
}

/** Average pooling like torch.nn.functional.avg_pool2d. */
export function avgPool2d(x: Tensor, kernelSize: Size2, options: AvgPool2dOptions = {}): Tensor {
  checkOptionKeys("avgPool2d", options, [
    "stride",
    "padding",
    "ceilMode",
    "countIncludePad",
    "divisorOverride",
  ]);
  const geom = poolGeometry("avgPool2d", x, kernelSize, { ...options, dilation: 1 });
  const divisorOverride = options.divisorOverride ?? null;
  if (divisorOverride !== null && divisorOverride <= 0)
    throw new Error(`avgPool2d: divisorOverride must be positive, got ${divisorOverride}`);
  return apply("avgPool2d", [x], {
    ...geom,
    countIncludePad: options.countIncludePad ?? true,
    divisorOverride,
  });
}

/** Adaptive average pooling to a fixed output size; cell i covers [floor(i·H/out), ceil((i+1)·H/out)). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Size2): Tensor {
  checkFloat("adaptiveAvgPool2d", x);
  if (x.ndim !== 4) throw new Error(`adaptiveAvgPool2d: input must be 4-D NCHW, got ${formatShape(x.shape)}`);
  const [outH, outW] = pair(outputSize, "outputSize", "adaptiveAvgPool2d");
  if (outH < 1 || outW < 1)
    throw new Error(`adaptiveAvgPool2d: outputSize must be positive, got ${JSON.stringify(outputSize)}`);
  // An empty plane would average zero values: 0/0.
  if (x.shape[2] < 1 || x.shape[3] < 1)
    throw new Error(`adaptiveAvgPool2d: input ${formatShape(x.shape)} has an empty spatial dim`);
  const [batch, channels, inH, inW] = x.shape;
  checkAllocatable("adaptiveAvgPool2d", "output", [batch, channels, outH, outW]);
  return apply("adaptiveAvgPool2d", [x], { batch, channels, inH, inW, outH, outW });
}

/** Global average pooling [N, C, H, W] -> [N, C, 1, 1]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  checkFloat("globalAvgPool2d", x);
  if (x.ndim !== 4) throw new Error(`globalAvgPool2d: input must be 4-D NCHW, got ${formatShape(x.shape)}`);
  return mean(x, [2, 3], true);
}

/** Checks a 4-D float input and a positive output size for the adaptive poolings. */
function adaptiveSize(op: string, x: Tensor, outputSize: Size2): [number, number] {
  checkFloat(op, x);
  if (x.ndim !== 4) throw new Error(`${op}: input must be 4-D NCHW, got ${formatShape(x.shape)}`);
  const [outH, outW] = pair(outputSize, "outputSize", op);
  if (outH < 1 || outW < 1)
    throw new Error(`${op}: outputSize must be positive, got ${JSON.stringify(outputSize)}`);
  if (x.shape[2] < 1 || x.shape[3] < 1)
    throw new Error(`${op}: input ${formatShape(x.shape)} has an empty spatial dim`);
  return [outH, outW];
}

/** Max over the adaptive windows of one axis: cell i covers [floor(i·n/out), ceil((i+1)·n/out)). */
function adaptiveMaxAlong(x: Tensor, axis: number, out: number): Tensor {
  const n = x.shape[axis];
  if (out === n) return x;
  const cells: Tensor[] = [];
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * n) / out);
    const end = Math.ceil(((i + 1) * n) / out);
    cells.push(max(slice(x, axis, start, end), axis, true));
  }
  return concat(cells, axis);
}

/**
 * Adaptive max pooling to a fixed output size (torch.nn.functional.adaptive_max_pool2d without indices):
 * output cell (i, j) is the maximum over rows [floor(i·H/outH), ceil((i+1)·H/outH)) and the matching
 * columns. When the size divides the input it is max pooling with kernel = stride = H/outH; otherwise the
 * window maximum is taken along H, then along W (a max over a rectangle is separable).
 * @returns [N, C, outH, outW]
 * @example adaptiveMaxPool2d(x, 1) // global max pooling, [N, C, H, W] -> [N, C, 1, 1]
 */
export function adaptiveMaxPool2d(x: Tensor, outputSize: Size2): Tensor {
  const [outH, outW] = adaptiveSize("adaptiveMaxPool2d", x, outputSize);
  const [, , inH, inW] = x.shape;
  if (inH % outH === 0 && inW % outW === 0) return maxPool2d(x, [inH / outH, inW / outW]);
  return adaptiveMaxAlong(adaptiveMaxAlong(x, 2, outH), 3, outW);
}

/** Global max pooling [N, C, H, W] -> [N, C, 1, 1]. */
export function globalMaxPool2d(x: Tensor): Tensor {
  checkFloat("globalMaxPool2d", x);
  if (x.ndim !== 4) throw new Error(`globalMaxPool2d: input must be 4-D NCHW, got ${formatShape(x.shape)}`);
  if (x.shape[2] < 1 || x.shape[3] < 1)
    throw new Error(`globalMaxPool2d: input ${formatShape(x.shape)} has an empty spatial dim`);
  return max(x, [2, 3], true);
}
