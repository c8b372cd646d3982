// Typed wrappers of the batch-norm kernels (kernels/normalization.ts): x viewed as [N, C, S], per-channel
// vectors of C floats, a weight or bias address of 0 meaning none. Threads split by channel ranges.

import type { Backend, BatchNormGeometry, Storage } from "../backend.js";
import type { WasmContext } from "./context.js";
import type { WasmRuntime } from "./runtime.js";

/** Memory-bound passes: weighed per element like the elementwise kernels (ELEMENT_WORK in backend.ts). */
const PASS_WORK = 16;

function work(g: BatchNormGeometry, passes: number): number {
  return g.batch * g.channels * g.spatial * PASS_WORK * passes;
}

/** The kernels' geometry arguments (kernels/normalization.ts): N, C, S. */
const bnArgs = (g: BatchNormGeometry): [number, number, number] => [g.batch, g.channels, g.spatial];

/**
 * With S = 1 the kernels take channels four at a time from c0 on: splitting at multiples of 4 keeps the
 * same groups whatever the thread count, so results do not depend on it.
 */
const granularity = (g: BatchNormGeometry) => (g.spatial === 1 ? 4 : 1);

/** mean[c] and biased variance[c] (two passes over x, f64 totals of blocked f32x4 sums). */
export function batchNormStats(
  rt: WasmRuntime,
  g: BatchNormGeometry,
  x: number,
  mean: number,
  variance: number,
) {
  rt.parallel({
    name: "batchNormStats",
    args: [x, mean, variance, ...bnArgs(g)],
    units: g.channels,
    work: work(g, 2),
    granularity: granularity(g),
  });
}

/** y = (x − mean)·invStd·weight + bias per channel. */
export function batchNormForward(
  rt: WasmRuntime,
  g: BatchNormGeometry,
  x: number,
  mean: number,
  invStd: number,
  weight: number,
  bias: number,
  y: number,
): void {
  rt.parallel({
    name: "batchNormForward",
    args: [x, mean, invStd, weight, bias, y, ...bnArgs(g)],
    units: g.channels,
    work: work(g, 1),
    granularity: granularity(g),
  });
}

/** dx, dWeight = Σ gy·x̂ and dBias = Σ gy; dx takes the batch statistics' gradient when training. */
export function batchNormBackward(
  rt: WasmRuntime,
  g: BatchNormGeometry,
  gy: number,
  x: number,
  mean: number,
  invStd: number,
  weight: number,
  training: boolean,
  out: { dx: number; dWeight: number; dBias: number },
): void {
  rt.parallel({
    name: "batchNormBackward",
    args: [gy, x, mean, invStd, weight, out.dx, out.dWeight, out.dBias, ...bnArgs(g), training ? 1 : 0],
    units: g.channels,
    work: work(g, 2),
    granularity: granularity(g),
  });
}

type BatchNormMethods = Pick<Backend, "batchNormStats" | "batchNormForward" | "batchNormBackward">;

/** The Backend's batch-norm methods over storages of `storages` (spread into the wasm Backend object). */
export function createBatchNormMethods({ rt, storages }: WasmContext): BatchNormMethods {
  const ptr = (s: Storage) => storages.ptr(s);
  const optionalPtr = (s: Storage | null) => (s === null ? 0 : storages.ptr(s));
  return {
    batchNormStats(x, g) {
      const px = ptr(x);
      const mean = storages.alloc(x.dtype, g.channels);
      const variance = storages.alloc(x.dtype, g.channels);
      batchNormStats(rt, g, px, mean.ptr, variance.ptr);
      return { mean, variance };
    },
    batchNormForward(x, mean, invStd, weight, bias, g) {
      const args = [ptr(x), ptr(mean), ptr(invStd), optionalPtr(weight), optionalPtr(bias)] as const;
      const y = storages.alloc(x.dtype, x.size);
      batchNormForward(rt, g, ...args, y.ptr);
      return y;
    },
    batchNormBackward(gy, x, mean, invStd, weight, training, g) {
      const args = [ptr(gy), ptr(x), ptr(mean), ptr(invStd), optionalPtr(weight)] as const;
      const dx = storages.alloc(gy.dtype, gy.size);
      const dWeight = storages.alloc(gy.dtype, g.channels);
      const dBias = storages.alloc(gy.dtype, g.channels);
      batchNormBackward(rt, g, ...args, training, {
        dx: dx.ptr,
        dWeight: dWeight.ptr,
        dBias: dBias.ptr,
      });
      return { dx, dWeight, dBias };
    },
  };
}
