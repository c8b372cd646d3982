// topk (torch.topk) as reference kernels: a stable sort of each row, NaN counted as larger than any
// number, ties kept in position order; the backward places each gradient at its element's position. The
// wasm backend runs these on a copy of its storages (wasm/topk.ts); webgpu ranks elements in WGSL.

import type { Storage, TopkGeometry } from "../backend.js";
import { alloc, arr } from "./storage.js";

/** Orders numbers ascending with NaN above every number (and NaNs equal), as torch's sort does. */
export function compareNanLast(a: number, b: number): number {
  const aNan = Number.isNaN(a);
  const bNan = Number.isNaN(b);
  if (aNan || bNan) return Number(aNan) - Number(bNan);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function topk(x: Storage, g: TopkGeometry): { values: Storage; indices: Storage } {
  const v = arr(x);
  const values = alloc(x.dtype, g.rows * g.k);
  const indices = alloc("int32", g.rows * g.k);
  const sign = g.largest ? -1 : 1;
  const positions = [...Array(g.size).keys()];
  for (let r = 0; r < g.rows; r++) {
    const base = r * g.size;
    // Array.prototype.sort is stable: equal values keep their position order.
    const order = positions.slice().sort((i, j) => sign * compareNanLast(v[base + i], v[base + j]));
    for (let j = 0; j < g.k; j++) {
      values.data[r * g.k + j] = v[base + order[j]];
      indices.data[r * g.k + j] = order[j];
    }
  }
  return { values, indices };
}

export function topkBackward(gy: Storage, indices: Storage, g: TopkGeometry): Storage {
  const grad = arr(gy);
  const at = arr(indices);
  const dx = alloc(gy.dtype, g.rows * g.size);
  for (let r = 0; r < g.rows; r++)
    for (let j = 0; j < g.k; j++) dx.data[r * g.size + at[r * g.k + j]] += grad[r * g.k + j];
  return dx;
}
