// Reductions over a set of axes and argmax along one axis. A long reduction runs one workgroup per output
// element: its threads stride over the reduced elements (read through the input's strides) and combine
// their partial results in workgroup memory; a short one (at most DIRECT_LENGTH elements per output) runs
// one thread per output, without barriers. Sums accumulate with Kahan compensation per thread, so a
// channel of a million values keeps float32's precision (the js backend sums in float64).

import type { ReduceKind, Storage } from "../backend.js";
import type { Shape } from "../../tensor/shape.js";
import { sizeOf, stridesOf } from "../../tensor/shape.js";
import { LINEAR_GROUP_WGSL } from "./runtime.js";
import {
  buf,
  elementKernel,
  IS_NAN_WGSL,
  launchElements,
  out,
  WG,
  wgslType,
  type GpuContext,
} from "./context.js";

const RWG = 128;
const MAX_RANK = 8;

function combine(kind: ReduceKind, t: string): { init: string; step: string } {
  const big = t === "f32" ? "infinity()" : "2147483647";
  if (kind === "sum") return { init: `${t}(0)`, step: "a + b" };
  const nan = t === "f32" ? " || isNan(b)" : "";
  if (kind === "max") return { init: `-${big}`, step: `select(a, b, b > a${nan})` };
  return { init: t === "f32" ? big : `${big}`, step: `select(a, b, b < a${nan})` };
}

const DIRECT_LENGTH = 512;

function accumulateWgsl(kind: ReduceKind, t: string): string {
  return kind === "sum" && t === "f32"
    ? "let yk = v - comp; let tk = acc + yk; comp = (tk - acc) - yk; acc = tk;"
    : "acc = combine(acc, v);";
}

/** WGSL: `off` = input offset of reduced element j (reduced rank, shape and strides in the params). */
const REDUCED_OFFSET = `var rj = j; var off = base;
    for (var d = i32(pu(3u)) - 1; d >= 0; d--) {
      let e = pu(4u + ${2 * MAX_RANK}u + u32(d)); off += (rj % e) * pu(4u + ${3 * MAX_RANK}u + u32(d)); rj = rj / e;
    }`;

/** WGSL: `base` = input offset of output o (kept rank, shape and strides in the params). */
const KEPT_OFFSET = `var rest = o; var base = 0u;
  for (var d = i32(pu(2u)) - 1; d >= 0; d--) {
    let e = pu(4u + u32(d)); base += (rest % e) * pu(4u + ${MAX_RANK}u + u32(d)); rest = rest / e;
  }`;

function directReduceKernel(kind: ReduceKind, t: "f32" | "i32"): string {
  const { init, step } = combine(kind, t);
  return elementKernel(
    [`read> xs: array<${t}>`, `read_write> ys: array<${t}>`],
    `let o = i;
  ${KEPT_OFFSET}
  var acc: ${t} = ${init};
  var comp: ${t} = ${t}(0);
  for (var j = 0u; j < pu(1u); j++) {
    ${REDUCED_OFFSET}
    let v = xs[off];
    ${accumulateWgsl(kind, t)}
  }
  ys[o] = acc;`,
    `${IS_NAN_WGSL}
fn combine(a: ${t}, b: ${t}) -> ${t} { return ${step}; }`,
  );
}

function reduceKernel(kind: ReduceKind, t: "f32" | "i32"): string {
  const { init, step } = combine(kind, t);
  const accumulate = accumulateWgsl(kind, t);
  return `
@group(0) @binding(1) var<storage, read> xs: array<${t}>;
@group(0) @binding(2) var<storage, read_write> ys: array<${t}>;
var<workgroup> part: array<${t}, ${RWG}>;
${LINEAR_GROUP_WGSL}
${IS_NAN_WGSL}
fn combine(a: ${t}, b: ${t}) -> ${t} { return ${step}; }
// params: 0 outputs, 1 reduced count, 2 kept rank, 3 reduced rank, then kept shape/strides, reduced shape/strides.
@compute @workgroup_size(${RWG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = linearGroup(wg, count);
  if (o >= pu(0u)) { return; }
  ${KEPT_OFFSET}
  var acc: ${t} = ${init};
  var comp: ${t} = ${t}(0);
  let r = pu(1u);
  for (var j = lid; j < r; j += ${RWG}u) {
    ${REDUCED_OFFSET}
    let v = xs[off];
    ${accumulate}
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${RWG / 2}u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] = combine(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) { ys[o] = part[0]; }
}`;
}

export function reduce(
  ctx: GpuContext,
  kind: ReduceKind,
  x: Storage,
  shape: Shape,
  axes: readonly number[],
): Storage {
  const t = wgslType(x.dtype);
  const strides = stridesOf(shape);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const reduced = [...axes];
  const outputs = sizeOf(kept.map((i) => shape[i]));
  const y = out(ctx, x.dtype, outputs);
  if (kept.length > MAX_RANK || reduced.length > MAX_RANK)
    throw new Error(`webgpu reduce: rank ${shape.length} > ${MAX_RANK}`);
  const pad = (v: number[]) => [...v, ...new Array<number>(MAX_RANK - v.length).fill(0)];
  const length = sizeOf(reduced.map((i) => shape[i]));
  const direct = length <= DIRECT_LENGTH;
  ctx.rt.launch(
    `reduce-${kind}-${t}${direct ? "-direct" : ""}`,
    () => (direct ? directReduceKernel(kind, t) : reduceKernel(kind, t)),
    [buf(ctx, x), buf(ctx, y)],
    [
      outputs,
      length,
      kept.length,
      reduced.length,
      ...pad(kept.map((i) => shape[i])),
      ...pad(kept.map((i) => strides[i])),
      ...pad(reduced.map((i) => shape[i])),
      ...pad(reduced.map((i) => strides[i])),
    ],
    direct ? Math.ceil(outputs / WG) : outputs,
  );
  return y;
}

export function argmax(ctx: GpuContext, x: Storage, shape: Shape, axis: number): Storage {
  const t = wgslType(x.dtype);
  const len = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  const y = out(ctx, "int32", outer * inner);
  const code = () =>
    elementKernel(
      [`read> xs: array<${t}>`, `read_write> ys: array<i32>`],
      `let len = pu(1u); let inner = pu(2u);
  let base = (i / inner) * len * inner + i % inner;
  var best = 0u; var bestValue = xs[base];
  for (var j = 1u; j < len; j++) { let v = xs[base + j * inner]; if (v > bestValue) { bestValue = v; best = j; } }
  ys[i] = i32(best);`,
    );
  launchElements(ctx, `argmax-${t}`, code, [buf(ctx, x), buf(ctx, y)], outer * inner, [len, inner]);
  return y;
}
