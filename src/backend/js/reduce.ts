// Reductions over a set of axes, and argmax along one axis.

import type { ReduceKind, Storage } from "../backend.js";
import type { Shape } from "../../tensor/shape.js";
import { sizeOf } from "../../tensor/shape.js";
import { alloc, arr } from "./storage.js";

/**
 * Walks the input once in memory order with an odometer that tracks the output element each input
 * element folds into; this covers any axis set, contiguous or not.
 *
 * Sums accumulate in float64 and round into the output once: adding each element into a float32 output
 * rounds at every step, and the running sum's rounding swamps the spread of large data (the mean of
 * 819,200 values of 1000 ± 0.1 came out as 1005.6, so a batch norm built on it normalised everything to
 * about −1). Int32 sums come out the same as wrapping at every step, since the float64 total is exact
 * below 2^53. Max and min compare in the output's own dtype and let any NaN win.
 */
export function reduce(kind: ReduceKind, x: Storage, shape: Shape, axes: readonly number[]): Storage {
  const src = arr(x);
  const keep = shape.map((_, i) => !axes.includes(i));
  const outShape = shape.filter((_, i) => keep[i]);
  const out = alloc(x.dtype, sizeOf(outShape));
  const dst = out.data;
  const sums = kind === "sum" ? new Float64Array(dst.length) : null;
  dst.fill(kind === "sum" ? 0 : kind === "max" ? -Infinity : Infinity);
  if (src.length === 0) return out;
  // Output strides expressed per input axis (0 on reduced axes).
  const outStrides = new Array<number>(shape.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (keep[i]) {
      outStrides[i] = s;
      s *= shape[i];
    }
  }
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (sums !== null) sums[o] += v;
    else if (kind === "max") {
      if (v > dst[o] || Number.isNaN(v)) dst[o] = v;
    } else if (v < dst[o] || Number.isNaN(v)) dst[o] = v;
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      o += outStrides[d];
      if (index[d] < shape[d]) break;
      o -= outStrides[d] * shape[d];
      index[d] = 0;
    }
  }
  if (sums !== null) dst.set(sums);
  return out;
}

export function argmax(x: Storage, shape: Shape, axis: number): Storage {
  const src = arr(x);
  const outer = sizeOf(shape.slice(0, axis));
  const len = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  const out = alloc("int32", outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let best = 0;
      let bestValue = src[base];
      for (let j = 1; j < len; j++) {
        const v = src[base + j * inner];
        if (v > bestValue) {
          bestValue = v;
          best = j;
        }
      }
      out.data[o * inner + i] = best;
    }
  }
  return out;
}
