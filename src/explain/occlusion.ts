// Occlusion (Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional Networks"): slide a window
// of baseline values over the input and record how much the target's score drops, as Captum's `Occlusion`
// defines it — window positions every `strides` along each dim (ceil((dim - window) / stride) + 1 of them,
// the last one cropped at the edge), each element getting the mean drop over the windows covering it.

import type { Module } from "../nn/module.js";
import { Tensor, tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { scope } from "../backend/registry.js";
import {
  baselineValues,
  checkBatch,
  indicesForRows,
  scoresWithoutGrad,
  targetIndices,
  type Attribution,
  type TargetOptions,
} from "./attribution.js";

/** Options of {@link Occlusion.attribute}. */
export interface OcclusionOptions extends TargetOptions {
  /** The window over the dims after the batch, e.g. [C, 8, 8] for images (Captum's `sliding_window_shapes`). */
  slidingWindowShapes: readonly number[];
  /** Step of the window along each dim, one number for all (default 1, Captum's `strides`). */
  strides?: number | readonly number[];
  /** The occluding value: a number, or a tensor like x or like one image (default 0). */
  baselines?: number | Tensor;
  /** Occluded copies of the batch per forward pass (default 1, Captum's `perturbations_per_eval`). */
  perturbationsPerEval?: number;
}

/** Every window start along each dim, first dim varying fastest as in Captum. */
function windowStarts(
  dims: readonly number[],
  window: readonly number[],
  strides: readonly number[],
): number[][] {
  const counts = dims.map((d, i) => Math.ceil((d - window[i]) / strides[i]) + 1);
  const total = counts.reduce((a, b) => a * b, 1);
  return Array.from({ length: total }, (_, p) => {
    let rest = p;
    return counts.map((c, i) => {
      const start = (rest % c) * strides[i];
      rest = Math.floor(rest / c);
      return start;
    });
  });
}

/** Flat indices (within one image) of the elements a window starting at `start` covers. */
function windowElements(
  dims: readonly number[],
  window: readonly number[],
  start: readonly number[],
): number[] {
  let out = [0];
  dims.forEach((d, axis) => {
    const end = Math.min(d, start[axis] + window[axis]);
    const next: number[] = [];
    for (const base of out) for (let i = start[axis]; i < end; i++) next.push(base * d + i);
    out = next;
  });
  return out;
}

function checkedWindow(
  x: Tensor,
  options: OcclusionOptions,
  caller: string,
): { window: number[]; strides: number[] } {
  const dims = x.shape.slice(1);
  const window = options.slidingWindowShapes;
  if (!Array.isArray(window) || window.length !== dims.length)
    throw new Error(
      `${caller}: slidingWindowShapes must give ${dims.length} sizes (one per dim of ${formatShape(dims)}), got ${JSON.stringify(window)}`,
    );
  const strideOption = options.strides ?? 1;
  const strides = typeof strideOption === "number" ? dims.map(() => strideOption) : [...strideOption];
  if (strides.length !== dims.length)
    throw new Error(
      `${caller}: strides must be one number or ${dims.length} of them, got ${JSON.stringify(strideOption)}`,
    );
  dims.forEach((d, i) => {
    if (!Number.isInteger(window[i]) || window[i] < 1 || window[i] > d)
      throw new Error(`${caller}: window size ${window[i]} in dim ${i + 1} must be an integer in 1..${d}`);
    if (!Number.isInteger(strides[i]) || strides[i] < 1)
      throw new Error(`${caller}: stride ${strides[i]} in dim ${i + 1} must be a positive integer`);
  });
  return { window: [...window], strides };
}

/**
 * Occlusion (Zeiler & Fergus 2014), as Captum's `Occlusion`: each element's attribution is the mean of
 * S(x) - S(x with a window set to the baseline) over the windows that cover it (0 where none does).
 * `perturbationsPerEval` occluded copies of the batch go through the model together.
 *
 * @example
 * const attr = new Occlusion(model).attribute(x, { target: 3, slidingWindowShapes: [3, 8, 8], strides: [3, 4, 4] });
 */
export class Occlusion implements Attribution<OcclusionOptions> {
  constructor(readonly model: Module) {}

  /** Attributions shaped like x. */
  attribute(x: Tensor, options: OcclusionOptions): Tensor {
    const caller = "Occlusion";
    checkBatch(x, caller);
    if (!options) throw new Error(`${caller}: attribute needs { slidingWindowShapes }`);
    const { window, strides } = checkedWindow(x, options, caller);
    const perEval = options.perturbationsPerEval ?? 1;
    if (!Number.isInteger(perEval) || perEval < 1)
      throw new Error(`${caller}: perturbationsPerEval must be a positive integer, got ${perEval}`);
    const n = x.shape[0];
    const dims = x.shape.slice(1);
    const d = x.size / n;
    const indices = targetIndices(options.target, n, caller);
    const input = Float64Array.from(x.toArray());
    const baseline = baselineValues(options.baselines ?? 0, x, caller);
    const initial = scoresWithoutGrad(this.model, x, indices, caller);
    const total = new Float64Array(n * d);
    const covered = new Float64Array(d);
    const windows = windowStarts(dims, window, strides).map((start) => windowElements(dims, window, start));
    for (let first = 0; first < windows.length; first += perEval) {
      const group = windows.slice(first, first + perEval);
      const batch = new Float32Array(group.length * n * d);
      group.forEach((elements, p) => {
        batch.set(input, p * n * d);
        for (let i = 0; i < n; i++)
          for (const e of elements) batch[(p * n + i) * d + e] = baseline[i * d + e];
      });
      const rows = Array.from({ length: group.length * n }, (_, r) => r % n);
      // In a scope, so that on wasm each group's tensors are freed before the next.
      const scores = scope(() => {
        const occluded = tensor(batch, [group.length * n, ...dims], { backend: x.backend.name }).to(x.dtype);
        return scoresWithoutGrad(this.model, occluded, indicesForRows(indices, rows), caller);
      });
      group.forEach((elements, p) => {
        for (const e of elements) covered[e] += 1;
        for (let i = 0; i < n; i++) {
          const drop = initial[i] - scores[p * n + i];
          for (const e of elements) total[i * d + e] += drop;
        }
      });
    }
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++)
      for (let e = 0; e < d; e++) if (covered[e] > 0) out[i * d + e] = total[i * d + e] / covered[e];
    return tensor(out, x.shape, { backend: x.backend.name }).to(x.dtype);
  }
}
