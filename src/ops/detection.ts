// Detection basics with torchvision.ops semantics: box IoU, non-maximum suppression (plain and per class),
// RoI pooling and RoI Align (Fast/Mask R-CNN), forward and backward.
//
// Boxes are (x1, y1, x2, y2) in pixels; RoIs are rows (batch index, x1, y1, x2, y2). The RoI ops are
// Backend kernels (reference: backend/js/detection.ts), so they run where the tensors live, webgpu
// included. NMS keeps a data-dependent number of boxes: it runs on the host, and on webgpu, whose values
// are read asynchronously, `nmsAsync`/`batchedNmsAsync` await them.

import { registerRules, type Rule } from "../autograd/primitive.js";
import { Tensor, tensor } from "../tensor/tensor.js";
import { formatShape, pair } from "../tensor/shape.js";
import type { TypedArray } from "../tensor/dtype.js";
import { checkFloat, hostValues, wrapLike } from "./util.js";
import type { RoiAlignGeometry, RoiGeometry } from "../backend/backend.js";
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

/** The kept indices by greedy suppression in decreasing score order, as an int32 tensor beside the boxes. */
function nmsOnHost(boxes: Tensor, b: TypedArray, s: TypedArray, iouThreshold: number): Tensor {
  const keep = greedyKeep(b, byScoreDescending(s, [...s.keys()]), iouThreshold);
  return tensor(Int32Array.from(keep), [keep.length], { backend: boxes.backend.name });
}

/** batchedNms on host values: suppression within each category, the survivors by decreasing score. */
function batchedNmsOnHost(
  boxes: Tensor,
  b: TypedArray,
  s: TypedArray,
  categories: TypedArray,
  iouThreshold: number,
): Tensor {
  const groups = new Map<number, number[]>();
  categories.forEach((category, i) => groups.set(category, [...(groups.get(category) ?? []), i]));
  const kept: number[] = [];
  for (const members of groups.values())
    kept.push(...greedyKeep(b, byScoreDescending(s, members), iouThreshold));
  const keep = byScoreDescending(s, kept);
  return tensor(Int32Array.from(keep), [keep.length], { backend: boxes.backend.name });
}

/**
 * The values of a tensor NMS reads on the host; on a backend that reads asynchronously (webgpu) they must
 * be there already (made from an array, or awaited), else the error names the asynchronous variant.
 */
function valuesFor(op: string, t: Tensor, name: string): TypedArray {
  const values = hostValues(t);
  if (values === null)
    throw new Error(
      `${op}: ${name} ${formatShape(t.shape)} on ${t.backend.name} were computed on the GPU, and the number of ` +
        `kept boxes depends on their values, which a synchronous call cannot wait for; use \`await ${op}Async(…)\``,
    );
  return values;
}

function checkIdxs(boxes: Tensor, idxs: Tensor): void {
  if (idxs.ndim !== 1 || idxs.shape[0] !== boxes.shape[0])
    throw new Error(`batchedNms: idxs must be [${boxes.shape[0]}], got ${formatShape(idxs.shape)}`);
}

/**
 * Non-maximum suppression (torchvision.ops.nms): keeps the highest-scoring box, drops every remaining box
 * whose IoU with it is above `iouThreshold`, and repeats. It runs on the host: how many boxes survive
 * depends on the values. On webgpu, boxes and scores computed on the GPU need `nmsAsync`.
 * @param boxes `[N, 4]` (x1, y1, x2, y2)
 * @param scores `[N]`
 * @returns int32 `[K]` indices of the kept boxes, by decreasing score
 */
export function nms(boxes: Tensor, scores: Tensor, iouThreshold: number): Tensor {
  checkScores("nms", boxes, scores, iouThreshold);
  const b = valuesFor("nms", boxes, "boxes");
  return nmsOnHost(boxes, b, valuesFor("nms", scores, "scores"), iouThreshold);
}

/**
 * `nms` that reads boxes and scores asynchronously (`await tensor.data()`), for backends whose values live
 * on a device (webgpu); on js and wasm the same as `nms`.
 * @example const keep = await nmsAsync(boxes, scores, 0.5);
 */
export async function nmsAsync(boxes: Tensor, scores: Tensor, iouThreshold: number): Promise<Tensor> {
  checkScores("nms", boxes, scores, iouThreshold);
  const [b, s] = await Promise.all([boxes.data(), scores.data()]);
  return nmsOnHost(boxes, b, s, iouThreshold);
}

/**
 * Non-maximum suppression within each category (torchvision.ops.batched_nms): boxes of different
 * `idxs` never suppress each other. Runs on the host like `nms`; on webgpu see `batchedNmsAsync`.
 * @param idxs `[N]` int32 category of each box
 * @returns int32 `[K]` indices of the kept boxes, by decreasing score
 */
export function batchedNms(boxes: Tensor, scores: Tensor, idxs: Tensor, iouThreshold: number): Tensor {
  checkScores("batchedNms", boxes, scores, iouThreshold);
  checkIdxs(boxes, idxs);
  const [b, s, c] = [boxes, scores, idxs].map((t, i) =>
    valuesFor("batchedNms", t, ["boxes", "scores", "idxs"][i]),
  );
  return batchedNmsOnHost(boxes, b, s, c, iouThreshold);
}

/**
 * `batchedNms` that reads its inputs asynchronously (`await tensor.data()`), for webgpu; on js and wasm
 * the same as `batchedNms`.
 */
export async function batchedNmsAsync(
  boxes: Tensor,
  scores: Tensor,
  idxs: Tensor,
  iouThreshold: number,
): Promise<Tensor> {
  checkScores("batchedNms", boxes, scores, iouThreshold);
  checkIdxs(boxes, idxs);
  const [b, s, c] = await Promise.all([boxes.data(), scores.data(), idxs.data()]);
  return batchedNmsOnHost(boxes, b, s, c, iouThreshold);
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
  if (rois.backend !== x.backend)
    throw new Error(`${op}: rois live on backend ${rois.backend.name} but the input on ${x.backend.name}`);
  const [pooledH, pooledW] = pair(outputSize, "outputSize", op);
  if (!(pooledH >= 1 && pooledW >= 1))
    throw new Error(`${op}: outputSize must be positive integers, got [${pooledH},${pooledW}]`);
  if (!(Number.isFinite(spatialScale) && spatialScale > 0))
    throw new Error(`${op}: spatialScale must be a positive number, got ${spatialScale}`);
  const [batch, channels, height, width] = x.shape;
  checkRoiImages(op, rois, batch);
  return { channels, height, width, batch, numRois: rois.shape[0], pooledH, pooledW, spatialScale };
}

/**
 * Checks that every RoI names an image of the input, when the RoIs' values are on the host (always on js
 * and wasm; on webgpu when they were made from an array or awaited). RoIs computed on the GPU are not read
 * back for it: there a RoI naming no image contributes zeros (the kernels skip it).
 */
function checkRoiImages(op: string, rois: Tensor, batch: number): void {
  const r = hostValues(rois);
  if (r === null) return;
  for (let k = 0; k < rois.shape[0]; k++) {
    const n = r[5 * k];
    if (!(Number.isInteger(n) && n >= 0 && n < batch))
      throw new Error(`${op}: RoI ${k} names batch index ${n}, but the input has ${batch} images`);
  }
}

const outputShape = (a: RoiGeometry) => [a.numRois, a.channels, a.pooledH, a.pooledW];

const rules = {
  roiAlign: {
    forward: ([x, rois], a) => wrapLike(x, x.backend.roiAlign(x.storage, rois.storage, a), outputShape(a)),
    backward: (grad, [x, rois], _y, a) => [
      wrapLike(x, x.backend.roiAlignBackward(grad.storage, rois.storage, a), x.shape),
      null,
    ],
  } satisfies Rule<RoiAlignGeometry>,
  roiPool: {
    // The argmax positions route each gradient to its window's maximum.
    forward: ([x, rois], a, save) => {
      const { y, argmax } = x.backend.roiPool(x.storage, rois.storage, a);
      save(wrapLike(x, argmax, outputShape(a)));
      return wrapLike(x, y, outputShape(a));
    },
    backward: (grad, [x, rois], _y, a, argmax) => [
      wrapLike(x, x.backend.roiPoolBackward(grad.storage, argmax.storage, rois.storage, a), x.shape),
      null,
    ],
  } satisfies Rule<RoiGeometry, Tensor>,
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
