// The reference backend: every kernel in plain TypeScript over typed arrays. Readable first; the wasm
// backend is checked against it. Families whose every export is a Backend method are spread whole (a new
// method there needs no line here); elementwise and optim also export helpers, so their methods are named.

import type { Backend, Storage } from "../backend.js";
import type { DType, TypedArray } from "../../tensor/dtype.js";
import { dtypeOf } from "../../tensor/dtype.js";
import { alloc, arr, wrap } from "./storage.js";
import { binary, unary, where } from "./elementwise.js";
import * as reduce from "./reduce.js";
import * as movement from "./movement.js";
import * as gemm from "./gemm.js";
import * as conv from "./conv.js";
import * as pool from "./pool.js";
import * as normalization from "./normalization.js";
import * as losses from "./losses.js";
import * as detection from "./detection.js";
import { topk, topkBackward } from "./topk.js";
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
  oneHot,
  sgdUpdate,
  adamUpdate,
  ...reduce,
  ...movement,
  ...gemm,
  ...conv,
  ...pool,
  ...normalization,
  ...losses,
  ...detection,
  topk,
  topkBackward,
};
