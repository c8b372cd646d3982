// Strided copies of the webgpu backend (permute, slice, expand, pad and concat are built from these): one
// thread per output element computes its source offset from the output index and the strides.

import type { Storage } from "../backend.js";
import type { Shape } from "../../tensor/shape.js";
import { sizeOf } from "../../tensor/shape.js";
import { buf, elementKernel, launchElements, out, wgslType, type GpuContext } from "./context.js";

const MAX_RANK = 16;

/** WGSL: `off` = offset + Σ index·stride for flat index i of the shape in params 3.. (rank in 2, offset in 1). */
const STRIDED_OFFSET = `var rest = i; var off = pi(1u);
  for (var d = i32(pu(2u)) - 1; d >= 0; d--) {
    let e = pu(3u + u32(d)); off += i32(rest % e) * pi(3u + ${MAX_RANK}u + u32(d)); rest = rest / e;
  }`;

function stridedParams(shape: Shape, strides: readonly number[], offset: number) {
  if (shape.length > MAX_RANK) throw new Error(`webgpu gather: rank ${shape.length} > ${MAX_RANK}`);
  const pad = (v: readonly number[]) => [...v, ...new Array<number>(MAX_RANK - v.length).fill(0)];
  return [{ i: offset }, shape.length, ...pad(shape), ...pad(strides).map((s) => ({ i: s }))];
}

export function gather(
  ctx: GpuContext,
  x: Storage,
  shape: Shape,
  strides: readonly number[],
  offset: number,
): Storage {
  const t = wgslType(x.dtype);
  const n = sizeOf(shape);
  const y = out(ctx, x.dtype, n);
  const code = () =>
    elementKernel(
      [`read> xs: array<${t}>`, `read_write> ys: array<${t}>`],
      `${STRIDED_OFFSET}\n  ys[i] = xs[off];`,
    );
  launchElements(
    ctx,
    `gather-${t}`,
    code,
    [buf(ctx, x), buf(ctx, y)],
    n,
    stridedParams(shape, strides, offset),
  );
  return y;
}

export function scatterInto(
  ctx: GpuContext,
  dst: Storage,
  src: Storage,
  shape: Shape,
  strides: readonly number[],
  offset: number,
): Storage {
  const t = wgslType(dst.dtype);
  const y = out(ctx, dst.dtype, dst.size);
  ctx.rt.copy(buf(ctx, dst), buf(ctx, y), dst.size * 4);
  const code = () =>
    elementKernel(
      [`read> xs: array<${t}>`, `read_write> ys: array<${t}>`],
      `${STRIDED_OFFSET}\n  ys[off] = xs[i];`,
    );
  launchElements(
    ctx,
    `scatter-${t}`,
    code,
    [buf(ctx, src), buf(ctx, y)],
    sizeOf(shape),
    stridedParams(shape, strides, offset),
  );
  return y;
}

export function concat(
  ctx: GpuContext,
  parts: readonly Storage[],
  shapes: readonly Shape[],
  axis: number,
): Storage {
  const t = wgslType(parts[0].dtype);
  const outShape = [...shapes[0]];
  outShape[axis] = shapes.reduce((s, sh) => s + sh[axis], 0);
  const y = out(ctx, parts[0].dtype, sizeOf(outShape));
  const outRow = sizeOf(outShape.slice(axis));
  const code = () =>
    elementKernel(
      [`read> xs: array<${t}>`, `read_write> ys: array<${t}>`],
      `let row = pu(1u); ys[(i / row) * pu(2u) + pu(3u) + i % row] = xs[i];`,
    );
  let start = 0;
  parts.forEach((part, p) => {
    const row = sizeOf(shapes[p].slice(axis));
    launchElements(ctx, `concat-${t}`, code, [buf(ctx, part), buf(ctx, y)], part.size, [row, outRow, start]);
    start += row;
  });
  return y;
}
