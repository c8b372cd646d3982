// Detection basics with torchvision.ops semantics: box IoU, non-maximum suppression (plain and per class),
// RoI pooling and RoI Align (Fast/Mask R-CNN), forward and backward.
//
// Boxes are (x1, y1, x2, y2) in pixels; RoIs are rows (batch index, x1, y1, x2, y2). The RoI ops gather a
// few bilinear samples or window maxima per output cell: irregular, data-dependent reads that no dense
// kernel family covers. They run on the host in float64 over the input's values, on any backend, with the
// backward written beside the forward.

import { registerRules, type Rule } from "../autograd/primitive.js";
import { Tensor, tensor } from "../tensor/tensor.js";
import { formatShape, pair } from "../tensor/shape.js";
import type { TypedArray } from "../tensor/dtype.js";
import { checkFloat, wrapLike } from "./util.js";
import { clamp, div, maximum, minimum, mul, sub, add } from "./elementwise.js";
import { slice, squeeze, unsqueeze } from "./movement.js";
import type { Size2 } from "./conv.js";

function checkBoxes(op: string, boxes: Tensor, name = "boxes"): void {
  checkFloat(op, boxes, name);
  if (boxes.ndim !== 2 || boxes.shape[1] !== 4)
    throw new Error(`${op}: ${name} must be [K, 4] as (x1, y1, x2, y2), got ${formatShape(boxes.shape)}`);
}

function boxArea(boxes: Tensor): Tensor {
  const coord = (i: number) => squeeze(slice(boxes, 1, i, i + 1), 1);
  return mul(sub(coord(2), coord(0)), sub(coord(3), coord(1)));
}

/**
 * Intersection over union of every pair of boxes (torchvision.ops.box_iou), differentiable.
 * @param boxes1 `[N, 4]` boxes (x1, y1, x2, y2) with x1 <= x2, y1 <= y2
 * @param boxes2 `[M, 4]` boxes
 * @returns `[N, M]` IoU values in [0, 1]
 * @example boxIou(tensor([[0, 0, 2, 2]]), tensor([[1, 1, 3, 3]])) // [[1/7]]
 */
export function boxIou(boxes1: Tensor, boxes2: Tensor): Tensor {
  checkBoxes("boxIou", boxes1, "boxes1");
  checkBoxes("boxIou", boxes2, "boxes2");
  const a = unsqueeze(boxes1, 1); // [N, 1, 4]
  const corner = (t: Tensor, from: number) => slice(t, -1, from, from + 2);
  const lt = maximum(corner(a, 0), corner(boxes2, 0)); // [N, M, 2]
  const rb = minimum(corner(a, 2), corner(boxes2, 2));
  const wh = clamp(sub(rb, lt), 0, Infinity);
  const inter = mul(squeeze(slice(wh, 2, 0, 1), 2), squeeze(slice(wh, 2, 1, 2), 2));
  const union = sub(add(unsqueeze(boxArea(boxes1), 1), unsqueeze(boxArea(boxes2), 0)), inter);
  return div(inter, union);
}

function iouOf(b: TypedArray, i: number, j: number): number {
  const w = Math.max(0, Math.min(b[4 * i + 2], b[4 * j + 2]) - Math.max(b[4 * i], b[4 * j]));
  const h = Math.max(0, Math.min(b[4 * i + 3], b[4 * j + 3]) - Math.max(b[4 * i + 1], b[4 * j + 1]));
  const inter = w * h;
  const area = (k: number) => (b[4 * k + 2] - b[4 * k]) * (b[4 * k + 3] - b[4 * k + 1]);
  return inter / (area(i) + area(j) - inter);
}

function checkScores(op: string, boxes: Tensor, scores: Tensor, iouThreshold: number): void {
  checkBoxes(op, boxes);
  if (scores.ndim !== 1 || scores.shape[0] !== boxes.shape[0])
    throw new Error(
      `${op}: scores must be [${boxes.shape[0]}] (one per box), got ${formatShape(scores.shape)}`,
    );
  if (!Number.isFinite(iouThreshold))
    throw new Error(`${op}: iouThreshold must be a finite number, got ${iouThreshold}`);
}

/** Indices of `order` kept by greedy suppression (IoU strictly above the threshold suppresses). */
function greedyKeep(b: TypedArray, order: number[], iouThreshold: number): number[] {
  const suppressed = new Uint8Array(b.length / 4);
  const keep: number[] = [];
  for (let a = 0; a < order.length; a++) {
    const i = order[a];
    if (suppressed[i]) continue;
    keep.push(i);
    for (let c = a + 1; c < order.length; c++) {
      const j = order[c];
      if (!suppressed[j] && iouOf(b, i, j) > iouThreshold) suppressed[j] = 1;
    }
  }
  return keep;
}

function byScoreDescending(scores: TypedArray, indices: number[]): number[] {
  return indices.sort((i, j) => scores[j] - scores[i] || i - j);
}

/**
 * Non-maximum suppression (torchvision.ops.nms): keeps the highest-scoring box, drops every remaining box
 * whose IoU with it is above `iouThreshold`, and repeats.
 * @param boxes `[N, 4]` (x1, y1, x2, y2)
 * @param scores `[N]`
 * @returns int32 `[K]` indices of the kept boxes, by decreasing score
 */
export function nms(boxes: Tensor, scores: Tensor, iouThreshold: number): Tensor {
  checkScores("nms", boxes, scores, iouThreshold);
  const s = scores.toArray();
  const order = byScoreDescending(s, [...s.keys()]);
  const keep = greedyKeep(boxes.toArray(), order, iouThreshold);
  return tensor(Int32Array.from(keep), [keep.length], { backend: boxes.backend.name });
}

/**
 * Non-maximum suppression within each category (torchvision.ops.batched_nms): boxes of different
 * `idxs` never suppress each other.
 * @param idxs `[N]` int32 category of each box
 * @returns int32 `[K]` indices of the kept boxes, by decreasing score
 */
export function batchedNms(boxes: Tensor, scores: Tensor, idxs: Tensor, iouThreshold: number): Tensor {
  checkScores("batchedNms", boxes, scores, iouThreshold);
  if (idxs.ndim !== 1 || idxs.shape[0] !== boxes.shape[0])
    throw new Error(`batchedNms: idxs must be [${boxes.shape[0]}], got ${formatShape(idxs.shape)}`);
  const s = scores.toArray();
  const b = boxes.toArray();
  const groups = new Map<number, number[]>();
  idxs.toArray().forEach((category, i) => groups.set(category, [...(groups.get(category) ?? []), i]));
  const kept: number[] = [];
  for (const members of groups.values())
    kept.push(...greedyKeep(b, byScoreDescending(s, members), iouThreshold));
  const keep = byScoreDescending(s, kept);
  return tensor(Int32Array.from(keep), [keep.length], { backend: boxes.backend.name });
}

/** What both RoI ops need: input and RoI layout and the output grid. */
interface RoiGeometry {
  channels: number;
  height: number;
  width: number;
  batch: number;
  numRois: number;
  pooledH: number;
  pooledW: number;
  spatialScale: number;
}

interface RoiAlignAttrs extends RoiGeometry {
  samplingRatio: number;
  aligned: boolean;
}

function roiGeometry(
  op: string,
  x: Tensor,
  rois: Tensor,
  outputSize: Size2,
  spatialScale: number,
): RoiGeometry {
  checkFloat(op, x);
  checkFloat(op, rois, "rois");
  if (x.ndim !== 4) throw new Error(`${op}: input must be 4-D NCHW, got ${formatShape(x.shape)}`);
  if (rois.ndim !== 2 || rois.shape[1] !== 5)
    throw new Error(
      `${op}: rois must be [K, 5] rows (batch index, x1, y1, x2, y2), got ${formatShape(rois.shape)}`,
    );
  const [pooledH, pooledW] = pair(outputSize, "outputSize", op);
  if (!(pooledH >= 1 && pooledW >= 1))
    throw new Error(`${op}: outputSize must be positive integers, got [${pooledH},${pooledW}]`);
  if (!(Number.isFinite(spatialScale) && spatialScale > 0))
    throw new Error(`${op}: spatialScale must be a positive number, got ${spatialScale}`);
  const [batch, channels, height, width] = x.shape;
  const r = rois.toArray();
  for (let k = 0; k < rois.shape[0]; k++) {
    const n = r[5 * k];
    if (!(Number.isInteger(n) && n >= 0 && n < batch))
      throw new Error(`${op}: RoI ${k} names batch index ${n}, but the input has ${batch} images`);
  }
  return { channels, height, width, batch, numRois: rois.shape[0], pooledH, pooledW, spatialScale };
}

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

/**
 * Walks RoI Align's samples: calls `visit(outIndex, inOffset, weight)` for every bilinear tap of every
 * output cell, where `inOffset` indexes the input and `weight` already includes the 1/count average.
 */
function forEachAlignTap(
  rois: TypedArray,
  a: RoiAlignAttrs,
  visit: (outIndex: number, inOffset: number, weight: number) => void,
): void {
  const offset = a.aligned ? 0.5 : 0;
  const plane = a.height * a.width;
  for (let k = 0; k < a.numRois; k++) {
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
      const base = (r[0] * a.channels + c) * plane;
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

/** RoI pooling's window of one output cell in input rows/columns, [start, end). */
function poolWindow(start: number, bin: number, p: number, limit: number): [number, number] {
  const clampTo = (v: number) => Math.min(Math.max(v + start, 0), limit);
  return [clampTo(Math.floor(p * bin)), clampTo(Math.ceil((p + 1) * bin))];
}

/** C's round(): halves away from zero (Math.round rounds -2.5 to -2). */
const roundHalfAway = (v: number) => Math.sign(v) * Math.round(Math.abs(v));

/** RoI max pooling: the maximum per output cell and its input offset (-1 for an empty window). */
function roiPoolArgmax(
  x: TypedArray,
  rois: TypedArray,
  a: RoiGeometry,
): { values: number[]; argmax: number[] } {
  const values: number[] = [];
  const argmax: number[] = [];
  const plane = a.height * a.width;
  for (let k = 0; k < a.numRois; k++) {
    const r = rois.subarray(5 * k, 5 * k + 5);
    const [x1, y1, x2, y2] = [r[1], r[2], r[3], r[4]].map((v) => roundHalfAway(v * a.spatialScale));
    const binH = Math.max(y2 - y1 + 1, 1) / a.pooledH;
    const binW = Math.max(x2 - x1 + 1, 1) / a.pooledW;
    for (let c = 0; c < a.channels; c++) {
      const base = (r[0] * a.channels + c) * plane;
      for (let ph = 0; ph < a.pooledH; ph++) {
        const [h0, h1] = poolWindow(y1, binH, ph, a.height);
        for (let pw = 0; pw < a.pooledW; pw++) {
          const [w0, w1] = poolWindow(x1, binW, pw, a.width);
          let best = h1 <= h0 || w1 <= w0 ? 0 : -Infinity;
          let at = -1;
          for (let h = h0; h < h1; h++)
            for (let w = w0; w < w1; w++) {
              const i = base + h * a.width + w;
              if (x[i] > best) [best, at] = [x[i], i];
            }
          values.push(best);
          argmax.push(at);
        }
      }
    }
  }
  return { values, argmax };
}

/** A host-computed float result on the backend and in the dtype of `like`. */
function hostResult(like: Tensor, values: ArrayLike<number>, shape: number[]): Tensor {
  const data = like.dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values);
  return wrapLike(like, like.backend.fromArray(data), shape);
}

const outputShape = (a: RoiGeometry) => [a.numRois, a.channels, a.pooledH, a.pooledW];

const rules = {
  roiAlign: {
    forward: ([x, rois], a) => {
      const input = x.toArray();
      const out = new Float64Array(a.numRois * a.channels * a.pooledH * a.pooledW);
      forEachAlignTap(rois.toArray(), a, (o, i, w) => (out[o] += w * input[i]));
      return hostResult(x, out, outputShape(a));
    },
    backward: (grad, [x, rois], _y, a) => {
      const g = grad.toArray();
      const dx = new Float64Array(x.size);
      forEachAlignTap(rois.toArray(), a, (o, i, w) => (dx[i] += w * g[o]));
      return [hostResult(x, dx, [...x.shape]), null];
    },
  } satisfies Rule<RoiAlignAttrs>,
  roiPool: {
    forward: ([x, rois], a) =>
      hostResult(x, roiPoolArgmax(x.toArray(), rois.toArray(), a).values, outputShape(a)),
    backward: (grad, [x, rois], _y, a) => {
      const { argmax } = roiPoolArgmax(x.toArray(), rois.toArray(), a);
      const g = grad.toArray();
      const dx = new Float64Array(x.size);
      argmax.forEach((i, o) => {
        if (i >= 0) dx[i] += g[o];
      });
      return [hostResult(x, dx, [...x.shape]), null];
    },
  } satisfies Rule<RoiGeometry>,
};

const apply = registerRules(rules);

/** The primitives this family records (part of the `Primitive` union, ops/primitives.ts). */
export type DetectionPrimitive = keyof typeof rules;

/** Options of `roiAlign` (torchvision.ops.roi_align's `spatial_scale`, `sampling_ratio` and `aligned`). */
export interface RoiAlignOptions {
  /** Scale from box coordinates to the feature map (1/16 for a stride-16 map). Default 1. */
  spatialScale?: number;
  /** Bilinear samples per bin side; -1 (default) picks ceil(roi size / output size) per RoI. */
  samplingRatio?: number;
  /** Shift boxes by -0.5 pixel so that pixel centres line up (Detectron2's ROIAlignV2). Default false. */
  aligned?: boolean;
}

/**
 * RoI Align (He et al., Mask R-CNN 2017; torchvision.ops.roi_align): averages bilinear samples on a
 * regular grid inside each bin of each RoI, without rounding box coordinates.
 * @param x `[N, C, H, W]` feature map
 * @param rois `[K, 5]` rows (batch index, x1, y1, x2, y2) in input coordinates
 * @param outputSize bins per RoI, `[h, w]` or one number
 * @returns `[K, C, h, w]`; differentiable with respect to `x`
 * @example roiAlign(features, tensor([[0, 8, 8, 64, 40]]), 7, { spatialScale: 1 / 16, samplingRatio: 2 })
 */
export function roiAlign(x: Tensor, rois: Tensor, outputSize: Size2, options: RoiAlignOptions = {}): Tensor {
  const geometry = roiGeometry("roiAlign", x, rois, outputSize, options.spatialScale ?? 1);
  const samplingRatio = options.samplingRatio ?? -1;
  if (!Number.isInteger(samplingRatio) || samplingRatio === 0 || samplingRatio < -1)
    throw new Error(
      `roiAlign: samplingRatio must be a positive integer or -1 (adaptive), got ${samplingRatio}`,
    );
  return apply("roiAlign", [x, rois], { ...geometry, samplingRatio, aligned: options.aligned ?? false });
}

/**
 * RoI max pooling (Girshick, Fast R-CNN 2015; torchvision.ops.roi_pool): rounds each RoI to the feature
 * grid, splits it into `outputSize` bins and takes each bin's maximum.
 * @param x `[N, C, H, W]` feature map
 * @param rois `[K, 5]` rows (batch index, x1, y1, x2, y2) in input coordinates
 * @returns `[K, C, h, w]`; differentiable with respect to `x` (the gradient goes to each bin's maximum)
 */
export function roiPool(
  x: Tensor,
  rois: Tensor,
  outputSize: Size2,
  options: { spatialScale?: number } = {},
): Tensor {
  return apply("roiPool", [x, rois], roiGeometry("roiPool", x, rois, outputSize, options.spatialScale ?? 1));
}
