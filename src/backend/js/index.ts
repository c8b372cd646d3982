// The reference backend: every kernel in plain TypeScript over typed arrays. Readable first; the wasm
// backend is checked against it.

import type { Backend, Storage } from "../backend.js";
import type { DType, TypedArray } from "../../tensor/dtype.js";
import { dtypeOf } from "../../tensor/dtype.js";
import { alloc, arr, wrap } from "./storage.js";
import { binary, unary, where } from "./elementwise.js";
import { argmax, reduce } from "./reduce.js";
import { concat, gather, scatterInto } from "./movement.js";
import { gemm } from "./gemm.js";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from "./conv.js";
import {
  adaptiveAvgPool2d,
  adaptiveAvgPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  maxPool2d,
  maxPool2dBackward,
} from "./pool.js";
import { batchNormBackward, batchNormForward, batchNormStats } from "./normalization.js";
import { softmaxCrossEntropy, softmaxCrossEntropyBackward } from "./losses.js";
import { adamUpdate, sgdUpdate } from "./optim.js";

function full(dtype: DType, size: number, value: number): Storage {
  const s = alloc(dtype, size);
  if (value !== 0) s.data.fill(value);
  return s;
}

function cast(x: Storage, dtype: DType): Storage {
  const out = alloc(dtype, x.size);
  const src = arr(x);
  if (dtype === "int32") for (let i = 0; i < src.length; i++) out.data[i] = Math.trunc(src[i]);
  else out.data.set(src);
  return out;
}

function oneHot(labels: Storage, classes: number, dtype: DType): Storage {
  const l = arr(labels);
  const out = alloc(dtype, l.length * classes);
  for (let i = 0; i < l.length; i++) out.data[i * classes + l[i]] = 1;
  return out;
}

export const jsBackend: Backend = {
  name: "js",
  supports: () => true,
  fromArray: (data: TypedArray) => wrap(data.slice() as TypedArray, dtypeOf(data)),
  toArray: (s: Storage) => arr(s).slice() as TypedArray,
  full,
  cast,
  unary,
  binary,
  where,
  reduce,
  argmax,
  gather,
  scatterInto,
  concat,
  gemm,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  adaptiveAvgPool2d,
  adaptiveAvgPool2dBackward,
  batchNormStats,
  batchNormForward,
  batchNormBackward,
  oneHot,
  softmaxCrossEntropy,
  softmaxCrossEntropyBackward,
  sgdUpdate,
  adamUpdate,
};
