// RoI Align and RoI max pooling (torchvision.ops.roi_align / roi_pool), forward and backward, as reference
// kernels: a few bilinear samples or window maxima per output cell, irregular data-dependent reads that
// no dense kernel family covers. Sums run in float64 and are stored once in the input's dtype. The wasm
// backend runs these on a copy of its storages (wasm/detection.ts); webgpu has WGSL of the same rules.

import type { RoiAlignGeometry, RoiGeometry, Storage } from "../backend.js";
import type { TypedArray } from "../../tensor/dtype.js";
import { alloc, arr } from "./storage.js";

/** The bilinear taps of one sample point: four (offset, weight) pairs, or none outside the map. */
function bilinearTaps(height: number, width: number, y: number, x: number): [number, number][] {
  if (y < -1 || y > height || x < -1 || x > width) return [];
  y = Math.max(y, 0);
  x = Math.max(x, 0);
  let yLow = Math.floor(y);
  let xLow = Math.floor(x);
  let yHigh = yLow + 1;
  let xHigh = xLow + 1;
  if (yLow >= height - 1) {
    yHigh = yLow = height - 1;
    y = yLow;
  }
  if (xLow >= width - 1) {
    xHigh = xLow = width - 1;
    x = xLow;
  }
  const ly = y - yLow;
  const lx = x - xLow;
  const hy = 1 - ly;
  const hx = 1 - lx;
  return [
    [yLow * width + xLow, hy * hx],
    [yLow * width + xHigh, hy * lx],
    [yHigh * width + xLow, ly * hx],
    [yHigh * width + xHigh, ly * lx],
  ];
}

/** The RoI's image, or -1 when its batch index names none (it then contributes nothing). */
function roiImage(rois: TypedArray, k: number, batch: number): number {
  const n = rois[5 * k];
  return Number.isInteger(n) && n >= 0 && n < batch ? n : -1;
}

/**
 * Walks RoI Align's samples: calls `visit(outIndex, inOffset, weight)` for every bilinear tap of every
 * output cell, where `inOffset` indexes the input and `weight` already includes the 1/count average.
 */
function forEachAlignTap(
  rois: TypedArray,
  a: RoiAlignGeometry,
  visit: (outIndex: number, inOffset: number, weight: number) => void,
): void {
  const offset = a.aligned ? 0.5 : 0;
  const plane = a.height * a.width;
  for (let k = 0; k < a.numRois; k++) {
    const n = roiImage(rois, k, a.batch);
    if (n < 0) continue;
    const r = rois.subarray(5 * k, 5 * k + 5);
    const startW = r[1] * a.spatialScale - offset;
    const startH = r[2] * a.spatialScale - offset;
    let roiW = r[3] * a.spatialScale - offset - startW;
    let roiH = r[4] * a.spatialScale - offset - startH;
    if (!a.aligned) {
      roiW = Math.max(roiW, 1);
      roiH = Math.max(roiH, 1);
    }
    const binH = roiH / a.pooledH;
    const binW = roiW / a.pooledW;
    const gridH = a.samplingRatio > 0 ? a.samplingRatio : Math.ceil(roiH / a.pooledH);
    const gridW = a.samplingRatio > 0 ? a.samplingRatio : Math.ceil(roiW / a.pooledW);
    const count = Math.max(gridH * gridW, 1);
    for (let c = 0; c < a.channels; c++) {
      const base = (n * a.channels + c) * plane;
      for (let ph = 0; ph < a.pooledH; ph++) {
        for (let pw = 0; pw < a.pooledW; pw++) {
          const out = ((k * a.channels + c) * a.pooledH + ph) * a.pooledW + pw;
          for (let iy = 0; iy < gridH; iy++) {
            const y = startH + ph * binH + ((iy + 0.5) * binH) / gridH;
            for (let ix = 0; ix < gridW; ix++) {
              const x = startW + pw * binW + ((ix + 0.5) * binW) / gridW;
              for (const [tap, w] of bilinearTaps(a.height, a.width, y, x)) visit(out, base + tap, w / count);
            }
          }
        }
      }
    }
  }
}

const outputSize = (a: RoiGeometry) => a.numRois * a.channels * a.pooledH * a.pooledW;
const inputSize = (a: RoiGeometry) => a.batch * a.channels * a.height * a.width;

/** A float64 sum stored in the dtype of `like`. */
function stored(like: Storage, values: Float64Array): Storage {
  const out = alloc(like.dtype, values.length);
  out.data.set(values);
  return out;
}

export function roiAlign(x: Storage, rois: Storage, g: RoiAlignGeometry): Storage {
  const input = arr(x);
  const out = new Float64Array(outputSize(g));
  forEachAlignTap(arr(rois), g, (o, i, w) => (out[o] += w * input[i]));
  return stored(x, out);
}

export function roiAlignBackward(gy: Storage, rois: Storage, g: RoiAlignGeometry): Storage {
  const grad = arr(gy);
  const dx = new Float64Array(inputSize(g));
  forEachAlignTap(arr(rois), g, (o, i, w) => (dx[i] += w * grad[o]));
  return stored(gy, dx);
}

/** RoI pooling's window of one output cell in input rows/columns, [start, end). */
function poolWindow(start: number, bin: number, p: number, limit: number): [number, number] {
  const clampTo = (v: number) => Math.min(Math.max(v + start, 0), limit);
  return [clampTo(Math.floor(p * bin)), clampTo(Math.ceil((p + 1) * bin))];
}

/** C's round(): halves away from zero (Math.round rounds -2.5 to -2). */
const roundHalfAway = (v: number) => Math.sign(v) * Math.round(Math.abs(v));

export function roiPool(x: Storage, rois: Storage, g: RoiGeometry): { y: Storage; argmax: Storage } {
  const input = arr(x);
  const r = arr(rois);
  const y = alloc(x.dtype, outputSize(g));
  const argmax = alloc("int32", outputSize(g));
  argmax.data.fill(-1);
  const plane = g.height * g.width;
  for (let k = 0; k < g.numRois; k++) {
    const n = roiImage(r, k, g.batch);
    if (n < 0) continue;
    const [x1, y1, x2, y2] = [1, 2, 3, 4].map((i) => roundHalfAway(r[5 * k + i] * g.spatialScale));
    const binH = Math.max(y2 - y1 + 1, 1) / g.pooledH;
    const binW = Math.max(x2 - x1 + 1, 1) / g.pooledW;
    for (let c = 0; c < g.channels; c++) {
      const base = (n * g.channels + c) * plane;
      for (let ph = 0; ph < g.pooledH; ph++) {
        const [h0, h1] = poolWindow(y1, binH, ph, g.height);
        for (let pw = 0; pw < g.pooledW; pw++) {
          const [w0, w1] = poolWindow(x1, binW, pw, g.width);
          let best = h1 <= h0 || w1 <= w0 ? 0 : -Infinity;
          let at = -1;
          for (let h = h0; h < h1; h++)
            for (let w = w0; w < w1; w++) {
              const v = input[base + h * g.width + w];
              if (v > best) [best, at] = [v, h * g.width + w];
            }
          const o = ((k * g.channels + c) * g.pooledH + ph) * g.pooledW + pw;
          y.data[o] = best;
          argmax.data[o] = at;
        }
      }
    }
  }
  return { y, argmax };
}

export function roiPoolBackward(gy: Storage, argmax: Storage, rois: Storage, g: RoiGeometry): Storage {
  const grad = arr(gy);
  const at = arr(argmax);
  const r = arr(rois);
  const dx = new Float64Array(inputSize(g));
  const perRoi = g.channels * g.pooledH * g.pooledW;
  const cell = g.pooledH * g.pooledW;
  for (let o = 0; o < at.length; o++) {
    const k = Math.floor(o / perRoi);
    const n = roiImage(r, k, g.batch);
    if (at[o] < 0 || n < 0) continue;
    const c = Math.floor(o / cell) % g.channels;
    dx[(n * g.channels + c) * g.height * g.width + at[o]] += grad[o];
  }
  return stored(gy, dx);
}
