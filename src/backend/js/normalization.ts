// Batch normalisation kernels over x viewed as [N, C, S]: per-channel statistics, the normalising forward
// and the fused backward. JavaScript numbers are float64, so every sum here accumulates in float64 whatever
// the storage dtype; the variance is two-pass (mean first, then squared deviations from it).

import type { BatchNormGeometry, Storage } from "../backend.js";
import type { TypedArray } from "../../tensor/dtype.js";
import { alloc, arr } from "./storage.js";

/** Calls visit(offset) for the start of every strip of S values that belongs to channel c. */
function forEachStrip(g: BatchNormGeometry, c: number, visit: (offset: number) => void): void {
  for (let n = 0; n < g.batch; n++) visit((n * g.channels + c) * g.spatial);
}

function channelMean(xv: TypedArray, g: BatchNormGeometry, c: number): number {
  let total = 0;
  forEachStrip(g, c, (o) => {
    for (let s = 0; s < g.spatial; s++) total += xv[o + s];
  });
  return total / (g.batch * g.spatial);
}

export function batchNormStats(x: Storage, g: BatchNormGeometry): { mean: Storage; variance: Storage } {
  const xv = arr(x);
  const mean = alloc(x.dtype, g.channels);
  const variance = alloc(x.dtype, g.channels);
  for (let c = 0; c < g.channels; c++) {
    const m = channelMean(xv, g, c);
    let squares = 0;
    forEachStrip(g, c, (o) => {
      for (let s = 0; s < g.spatial; s++) squares += (xv[o + s] - m) ** 2;
    });
    mean.data[c] = m;
    variance.data[c] = squares / (g.batch * g.spatial);
  }
  return { mean, variance };
}

export function batchNormForward(
  x: Storage,
  mean: Storage,
  invStd: Storage,
  weight: Storage | null,
  bias: Storage | null,
  g: BatchNormGeometry,
): Storage {
  const xv = arr(x);
  const [mv, iv] = [arr(mean), arr(invStd)];
  const wv = weight ? arr(weight) : null;
  const bv = bias ? arr(bias) : null;
  const y = alloc(x.dtype, x.size);
  for (let c = 0; c < g.channels; c++) {
    const scale = iv[c] * (wv ? wv[c] : 1);
    const shift = bv ? bv[c] : 0;
    forEachStrip(g, c, (o) => {
      for (let s = o; s < o + g.spatial; s++) y.data[s] = (xv[s] - mv[c]) * scale + shift;
    });
  }
  return y;
}

export function batchNormBackward(
  gy: Storage,
  x: Storage,
  mean: Storage,
  invStd: Storage,
  weight: Storage | null,
  training: boolean,
  g: BatchNormGeometry,
): { dx: Storage; dWeight: Storage; dBias: Storage } {
  const [gv, xv, mv, iv] = [arr(gy), arr(x), arr(mean), arr(invStd)];
  const wv = weight ? arr(weight) : null;
  const count = g.batch * g.spatial;
  const dx = alloc(gy.dtype, gy.size);
  const dWeight = alloc(gy.dtype, g.channels);
  const dBias = alloc(gy.dtype, g.channels);
  for (let c = 0; c < g.channels; c++) {
    const m = mv[c];
    const is = iv[c];
    let sumGy = 0;
    let sumGyXhat = 0;
    forEachStrip(g, c, (o) => {
      for (let s = o; s < o + g.spatial; s++) {
        sumGy += gv[s];
        sumGyXhat += gv[s] * (xv[s] - m) * is;
      }
    });
    dBias.data[c] = sumGy;
    dWeight.data[c] = sumGyXhat;
    const scale = (wv ? wv[c] : 1) * is;
    forEachStrip(g, c, (o) => {
      for (let s = o; s < o + g.spatial; s++) {
        // In eval the statistics are constants, so only the direct path through x remains.
        dx.data[s] = training
          ? scale * (gv[s] - sumGy / count - (xv[s] - m) * is * (sumGyXhat / count))
          : scale * gv[s];
      }
    });
  }
  return { dx, dWeight, dBias };
}
