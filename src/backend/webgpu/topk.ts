// topk of the webgpu backend (torch.topk's order, as the js reference in js/topk.ts): one thread per
// element counts the elements of its row that come before it (larger, or equal at a lower position; NaN
// above every number), and the elements whose rank is below k write themselves to that slot. A rank is a
// permutation, so every slot is written once, without barriers or atomics. The backward runs one thread per
// input element, which finds whether (and where) the row's indices name it.

import type { Storage, TopkGeometry } from "../backend.js";
import { buf, elementKernel, IS_NAN_WGSL, launchElements, out, type GpuContext } from "./context.js";

const TOPK_WGSL = () =>
  elementKernel(
    [`read> X: array<f32>`, `read_write> V: array<f32>`, `read_write> IDX: array<i32>`],
    `let size = pu(1u); let k = pu(2u); let largest = pu(3u) != 0u;
  let row = i / size; let p = i % size; let base = row * size;
  let v = X[i];
  var rank = 0u;
  for (var j = 0u; j < size; j++) {
    let u = X[base + j];
    let ahead = select(before(u, v), before(v, u), largest);
    if (ahead || (j < p && same(u, v))) { rank++; }
  }
  if (rank < k) { V[row * k + rank] = v; IDX[row * k + rank] = i32(p); }`,
    `${IS_NAN_WGSL}
// a < b with NaN above every number.
fn before(a: f32, b: f32) -> bool { return (!isNan(a) && isNan(b)) || a < b; }
fn same(a: f32, b: f32) -> bool { return (isNan(a) && isNan(b)) || a == b; }`,
  );

export function topk(ctx: GpuContext, x: Storage, g: TopkGeometry): { values: Storage; indices: Storage } {
  const values = out(ctx, x.dtype, g.rows * g.k);
  const indices = out(ctx, "int32", g.rows * g.k);
  if (g.k > 0) {
    const buffers = [buf(ctx, x), buf(ctx, values), buf(ctx, indices)];
    launchElements(ctx, "topk", TOPK_WGSL, buffers, g.rows * g.size, [g.size, g.k, g.largest ? 1 : 0]);
  }
  return { values, indices };
}

const TOPK_BACKWARD_WGSL = () =>
  elementKernel(
    [`read> GY: array<f32>`, `read> IDX: array<i32>`, `read_write> DX: array<f32>`],
    `let size = pu(1u); let k = pu(2u);
  let row = i / size; let p = i32(i % size);
  var acc = 0.0;
  for (var j = 0u; j < k; j++) { if (IDX[row * k + j] == p) { acc += GY[row * k + j]; } }
  DX[i] = acc;`,
  );

export function topkBackward(ctx: GpuContext, gy: Storage, indices: Storage, g: TopkGeometry): Storage {
  const dx = out(ctx, gy.dtype, g.rows * g.size);
  const buffers = [buf(ctx, gy), buf(ctx, indices), buf(ctx, dx)];
  launchElements(ctx, "topk-dx", TOPK_BACKWARD_WGSL, buffers, dx.size, [g.size, g.k]);
  return dx;
}
