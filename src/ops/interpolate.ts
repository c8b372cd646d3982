// Resampling (torch.nn.functional.interpolate): nearest and (bi)linear, with torch's coordinate rules.
// Both modes are linear maps along each spatial axis, so the output is A_h · x · A_wᵀ with small constant
// [out, in] matrices: two matmuls whose gradient is free and which run on every backend.

import { tensor, type Tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { checkFloat } from "./util.js";
import { matmul } from "./matmul.js";
import { transpose } from "./movement.js";

/**
 * Resampling of `interpolate`: nearest neighbour, or linear in one ([N, C, L]) or two ([N, C, H, W])
 * dimensions.
 */
export type InterpolateMode = "nearest" | "linear" | "bilinear";

/**
 * Options of `interpolate` (torch.nn.functional.interpolate's `size`, `scale_factor`, `mode` and
 * `align_corners`).
 */
export interface InterpolateOptions {
  /** Output spatial size (one number for every spatial dim, or one per dim). Give this or scaleFactor. */
  size?: number | readonly number[];
  /** Multiplier of the spatial size; the output is floor(in·scale). Give this or size. */
  scaleFactor?: number | readonly number[];
  /** "nearest" (default; [N, C, L] or [N, C, H, W]), "linear" ([N, C, L]) or "bilinear" ([N, C, H, W]). */
  mode?: InterpolateMode;
  /**
   * Linear modes only: map the corner pixels' centres onto each other (src = dst·(in-1)/(out-1)) instead of
   * the pixel areas (src = (dst+0.5)·in/out - 0.5, torch's default false).
   */
  alignCorners?: boolean;
}

const spatialDims: Record<InterpolateMode, readonly number[]> = {
  nearest: [1, 2],
  linear: [1],
  bilinear: [2],
};

/** One value per spatial dim from a number or a list of the right length. */
function perDim(op: string, name: string, value: number | readonly number[], dims: number): number[] {
  const list = typeof value === "number" ? new Array<number>(dims).fill(value) : [...value];
  if (list.length !== dims) {
    throw new Error(`${op}: ${name} ${JSON.stringify(value)} must give one value per spatial dim (${dims})`);
  }
  return list;
}

/** Nearest: output i reads input min(floor(i·scale), in-1), with torch's float32 scale. */
function nearestMatrix(inSize: number, outSize: number, scale: number): Float64Array {
  const m = new Float64Array(outSize * inSize);
  const s = Math.fround(scale);
  for (let i = 0; i < outSize; i++) {
    const src = Math.min(Math.floor(Math.fround(i * s)), inSize - 1);
    m[i * inSize + src] = 1;
  }
  return m;
}

/** Linear: output i blends the two inputs around its source coordinate (torch's area_pixel rule). */
function linearMatrix(inSize: number, outSize: number, scale: number, alignCorners: boolean): Float64Array {
  const m = new Float64Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    let src: number;
    if (alignCorners) src = outSize > 1 ? (i * (inSize - 1)) / (outSize - 1) : 0;
    else src = Math.max(scale * (i + 0.5) - 0.5, 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    const hi = lo < inSize - 1 ? lo + 1 : lo;
    const t = src - lo;
    m[i * inSize + lo] += 1 - t;
    m[i * inSize + hi] += t;
  }
  return m;
}

function isIdentity(m: Float64Array, n: number, outSize: number): boolean {
  if (n !== outSize) return false;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) if (m[i * n + j] !== (i === j ? 1 : 0)) return false;
  return true;
}

/**
 * Up- or down-samples the spatial dims like torch.nn.functional.interpolate.
 * With `scaleFactor` the output size is floor(in·scaleFactor) and the coordinate scale is 1/scaleFactor
 * (torch's recompute_scale_factor=None); with `size` it is in/out.
 * @returns [N, C, outL] or [N, C, outH, outW]
 * @example interpolate(x, { scaleFactor: 2, mode: "bilinear" }) // [1, 3, 16, 16] -> [1, 3, 32, 32]
 */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  const op = "interpolate";
  checkFloat(op, x);
  const mode = options.mode ?? "nearest";
  if (!(mode in spatialDims)) {
    throw new Error(`${op}: mode must be 'nearest', 'linear' or 'bilinear', got ${JSON.stringify(mode)}`);
  }
  const dims = x.ndim - 2;
  if (!spatialDims[mode].includes(dims)) {
    const want = spatialDims[mode].map((d) => (d === 1 ? "3-D [N, C, L]" : "4-D [N, C, H, W]")).join(" or ");
    throw new Error(`${op}: mode '${mode}' needs ${want} input, got ${formatShape(x.shape)}`);
  }
  if (mode === "nearest" && options.alignCorners !== undefined) {
    throw new Error(`${op}: alignCorners can only be set with the linear modes, not 'nearest'`);
  }
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new Error(`${op}: give exactly one of size and scaleFactor`);
  }
  const inSizes = x.shape.slice(2);
  let outSizes: number[];
  let scales: number[];
  if (options.size !== undefined) {
    outSizes = perDim(op, "size", options.size, dims);
    if (outSizes.some((s) => !Number.isInteger(s) || s < 1))
      throw new Error(`${op}: size ${JSON.stringify(options.size)} must be positive integers`);
    scales = inSizes.map((n, i) => n / outSizes[i]);
  } else {
    const factors = perDim(op, "scaleFactor", options.scaleFactor!, dims);
    if (factors.some((f) => !(Number.isFinite(f) && f > 0)))
      throw new Error(`${op}: scaleFactor ${JSON.stringify(options.scaleFactor)} must be positive numbers`);
    outSizes = inSizes.map((n, i) => Math.floor(n * factors[i]));
    if (outSizes.some((s) => s < 1)) {
      throw new Error(
        `${op}: scaleFactor ${JSON.stringify(options.scaleFactor)} gives an empty output from ${formatShape(x.shape)}`,
      );
    }
    scales = factors.map((f) => 1 / f);
  }
  const alignCorners = options.alignCorners ?? false;
  let y = x;
  // The last spatial dim first (x · Aᵀ), then H (A · y), which matmul broadcasts over N and C.
  for (let d = dims - 1; d >= 0; d--) {
    const n = inSizes[d];
    const out = outSizes[d];
    const m =
      mode === "nearest" ? nearestMatrix(n, out, scales[d]) : linearMatrix(n, out, scales[d], alignCorners);
    if (isIdentity(m, n, out)) continue;
    const a = tensor(x.dtype === "float64" ? m : Float32Array.from(m), [out, n], { backend: x.backend.name });
    y = d === dims - 1 ? matmul(y, transpose(a, 0, 1)) : matmul(a, y);
  }
  return y;
}
