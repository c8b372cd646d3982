// The meta backend: storages carry only dtype and size, kernels compute output sizes and nothing else.
// It runs a model's forward pass for its shapes alone — summary() of a 224x224 VGG in milliseconds —
// and reading values from it is an error.

import type {
  AdaptivePool2dGeometry,
  Backend,
  Conv2dGeometry,
  GemmGeometry,
  RoiGeometry,
  Storage,
} from "../backend.js";
import type { DType, TypedArray } from "../../tensor/dtype.js";
import { dtypeOf } from "../../tensor/dtype.js";
import { sizeOf, type Shape } from "../../tensor/shape.js";

function meta(dtype: DType, size: number): Storage {
  return { dtype, size };
}

const same = (x: Storage): Storage => meta(x.dtype, x.size);
const convOut = (x: Storage, g: Conv2dGeometry) => meta(x.dtype, g.batch * g.outChannels * g.outH * g.outW);
const convIn = (x: Storage, g: Conv2dGeometry) => meta(x.dtype, g.batch * g.inChannels * g.inH * g.inW);
// Every pool geometry (max, average, adaptive) has these six sizes.
const poolOut = (x: Storage, g: AdaptivePool2dGeometry) =>
  meta(x.dtype, g.batch * g.channels * g.outH * g.outW);
const poolIn = (x: Storage, g: AdaptivePool2dGeometry) => meta(x.dtype, g.batch * g.channels * g.inH * g.inW);

/** The RoI ops' output grid as a pool geometry: [numRois, channels, pooledH, pooledW]. */
const roiGrid = (g: RoiGeometry): AdaptivePool2dGeometry => ({
  batch: g.numRois,
  channels: g.channels,
  inH: g.height,
  inW: g.width,
  outH: g.pooledH,
  outW: g.pooledW,
});

export const metaBackend: Backend = {
  name: "meta",
  supports: () => true,
  fromArray: (data: TypedArray) => meta(dtypeOf(data), data.length),
  toArray: () => {
    throw new Error("meta backend: tensors on the meta backend have shapes but no values");
  },
  full: (dtype, size) => meta(dtype, size),
  cast: (x, dtype) => meta(dtype, x.size),
  unary: (_kind, x) => same(x),
  binary: (_kind, a, _aShape, _b, _bShape, outShape) => meta(a.dtype, sizeOf(outShape)),
  where: (_c, a) => same(a),
  reduce: (_kind, x, shape: Shape, axes) => meta(x.dtype, sizeOf(shape.filter((_, i) => !axes.includes(i)))),
  argmax: (_x, shape, axis) => meta("int32", sizeOf(shape) / shape[axis]),
  gather: (x, shape) => meta(x.dtype, sizeOf(shape)),
  scatterInto: (dst) => same(dst),
  concat: (parts) =>
    meta(
      parts[0].dtype,
      parts.reduce((s, p) => s + p.size, 0),
    ),
  gemm: (a, _b, g: GemmGeometry) => meta(a.dtype, g.batch * g.m * g.n),
  conv2d: (x, _w, _b, g) => convOut(x, g),
  conv2dBackwardInput: (gy, _w, g) => convIn(gy, g),
  conv2dBackwardWeight: (x, _gy, g) =>
    meta(x.dtype, (g.outChannels * g.inChannels * g.kernelH * g.kernelW) / g.groups),
  maxPool2d: (x, g) => ({ y: poolOut(x, g), indices: meta("int32", g.batch * g.channels * g.outH * g.outW) }),
  maxPool2dBackward: (gy, _i, g) => poolIn(gy, g),
  avgPool2d: (x, g) => poolOut(x, g),
  avgPool2dBackward: (gy, g) => poolIn(gy, g),
  adaptiveAvgPool2d: (x, g) => poolOut(x, g),
  adaptiveAvgPool2dBackward: (gy, g) => poolIn(gy, g),
  batchNormStats: (x, g) => ({ mean: meta(x.dtype, g.channels), variance: meta(x.dtype, g.channels) }),
  batchNormForward: (x) => same(x),
  batchNormBackward: (gy, _x, _m, _i, _w, _t, g) => ({
    dx: same(gy),
    dWeight: meta(gy.dtype, g.channels),
    dBias: meta(gy.dtype, g.channels),
  }),
  roiAlign: (x, _r, g) => poolOut(x, roiGrid(g)),
  roiAlignBackward: (gy, _r, g) => meta(gy.dtype, g.batch * g.channels * g.height * g.width),
  roiPool: (x, _r, g) => ({ y: poolOut(x, roiGrid(g)), argmax: poolOut(meta("int32", 0), roiGrid(g)) }),
  roiPoolBackward: (gy, _a, _r, g) => meta(gy.dtype, g.batch * g.channels * g.height * g.width),
  topk: (x, g) => ({ values: meta(x.dtype, g.rows * g.k), indices: meta("int32", g.rows * g.k) }),
  topkBackward: (gy, _i, g) => meta(gy.dtype, g.rows * g.size),
  oneHot: (labels, classes, dtype) => meta(dtype, labels.size * classes),
  softmaxCrossEntropy: (logits, _t, rows) => ({ loss: meta(logits.dtype, rows), logProbs: same(logits) }),
  softmaxCrossEntropyBackward: (logProbs) => same(logProbs),
  sgdUpdate: (param, _g, _b, h) => ({
    param: same(param),
    momentumBuffer: h.momentum !== 0 ? same(param) : null,
  }),
  adamUpdate: (param, _g, _m, _v, vmax) => ({
    param: same(param),
    expAvg: same(param),
    expAvgSq: same(param),
    maxExpAvgSq: vmax === null ? null : same(param),
  }),
};
