// Strided copies: permute, slice, expand, pad and concat are all built from these.

import type { Storage } from "../backend.js";
import type { Shape } from "../../tensor/shape.js";
import { sizeOf, stridesOf } from "../../tensor/shape.js";
import { alloc, arr, wrap } from "./storage.js";
import type { TypedArray } from "../../tensor/dtype.js";

/** Calls `visit(srcOffset, i)` for every element i of `shape` read through `strides` from `offset`. */
function walk(
  shape: Shape,
  strides: readonly number[],
  offset: number,
  visit: (src: number, i: number) => void,
) {
  const n = sizeOf(shape);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let o = offset;
  for (let i = 0; i < n; i++) {
    visit(o, i);
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      o += strides[d];
      if (index[d] < shape[d]) break;
      o -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

export function gather(x: Storage, shape: Shape, strides: readonly number[], offset: number): Storage {
  const src = arr(x);
  const out = alloc(x.dtype, sizeOf(shape));
  const dst = out.data;
  walk(shape, strides, offset, (s, i) => {
    dst[i] = src[s];
  });
  return out;
}

export function scatterInto(
  dst: Storage,
  src: Storage,
  shape: Shape,
  strides: readonly number[],
  offset: number,
): Storage {
  const copy = arr(dst).slice() as TypedArray;
  const from = arr(src);
  walk(shape, strides, offset, (d, i) => {
    copy[d] = from[i];
  });
  return wrap(copy, dst.dtype);
}

export function concat(parts: readonly Storage[], shapes: readonly Shape[], axis: number): Storage {
  const outShape = [...shapes[0]];
  outShape[axis] = shapes.reduce((s, sh) => s + sh[axis], 0);
  const out = alloc(parts[0].dtype, sizeOf(outShape));
  const outer = sizeOf(outShape.slice(0, axis));
  const outRow = sizeOf(outShape.slice(axis));
  let start = 0;
  parts.forEach((part, p) => {
    const row = sizeOf(shapes[p].slice(axis));
    const src = arr(part);
    for (let o = 0; o < outer; o++) {
      out.data.set(src.subarray(o * row, (o + 1) * row), o * outRow + start);
    }
    start += row;
  });
  return out;
}

export { stridesOf };
