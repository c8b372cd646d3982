// Batch normalisation kernels of the webgpu backend over x viewed as [N, C, S]. The statistics and the
// backward's two sums run one workgroup per channel; each thread walks a share of the channel's N·S values
// with Kahan-compensated f32 sums, and the workgroup combines them. The variance is two-pass (the mean
// first, then squared deviations from it), so data with a large mean keeps its spread. Short channels (at
// most DIRECT_LENGTH values) and every channel on a software adapter run one thread per channel instead,
// without barriers: SwiftShader switches between a workgroup's invocations at every barrier, which made
// the workgroup kernels most of a small model's training step there.

import type { BatchNormGeometry, Storage } from "../backend.js";
import { LINEAR_GROUP_WGSL } from "./runtime.js";
import { buf, elementKernel, launchElements, out, WG, type GpuContext } from "./context.js";

const RWG = 128;
/** Channels of at most this many values (N·S) are summed by one thread each. */
const DIRECT_LENGTH = 512;

/** Whether the channel sums of geometry g run one thread per channel (no workgroup reduction). */
function direct(ctx: GpuContext, g: BatchNormGeometry): boolean {
  return ctx.rt.preferDirect || g.batch * g.spatial <= DIRECT_LENGTH;
}

/** WGSL: the sum over channel c of f(index) by one thread, Kahan-compensated. */
function directChannelSum(name: string, value: string): string {
  return `
fn ${name}(c: u32) -> f32 {
  let count = pu(0u) * pu(2u);
  var acc = 0.0; var comp = 0.0;
  for (var j = 0u; j < count; j++) {
    let idx = ((j / pu(2u)) * pu(1u) + c) * pu(2u) + j % pu(2u);
    let v = ${value} - comp; let t = acc + v; comp = (t - acc) - v; acc = t;
  }
  return acc;
}`;
}

/** WGSL: sums over channel c of f(index) by the whole workgroup, Kahan-compensated per thread. */
function channelSum(name: string, value: string): string {
  return `
fn ${name}(c: u32, lid: u32) -> f32 {
  let count = pu(0u) * pu(2u);
  var acc = 0.0; var comp = 0.0;
  for (var j = lid; j < count; j += ${RWG}u) {
    let idx = ((j / pu(2u)) * pu(1u) + c) * pu(2u) + j % pu(2u);
    let v = ${value} - comp; let t = acc + v; comp = (t - acc) - v; acc = t;
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${RWG / 2}u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  let total = part[0];
  workgroupBarrier();
  return total;
}`;
}

const HEADER = `var<workgroup> part: array<f32, ${RWG}>;
${LINEAR_GROUP_WGSL}`;

/** Bindings of the statistics kernels (workgroup and direct). */
const STATS_BINDINGS = `@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> MEAN: array<f32>;
@group(0) @binding(3) var<storage, read_write> VAR: array<f32>;
var<private> centre: f32;`;

/** Bindings of the backward's channel sums (workgroup and direct). */
const SUMS_BINDINGS = `@group(0) @binding(1) var<storage, read> GY: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read> MEAN: array<f32>;
@group(0) @binding(4) var<storage, read> INV: array<f32>;
@group(0) @binding(5) var<storage, read_write> DW: array<f32>;
@group(0) @binding(6) var<storage, read_write> DB: array<f32>;
var<private> m: f32;
var<private> inv: f32;`;

const STATS_WGSL = () => `
${STATS_BINDINGS}
${HEADER}
${channelSum("sumX", "X[idx]")}
${channelSum("sumSquares", "(X[idx] - centre) * (X[idx] - centre)")}
@compute @workgroup_size(${RWG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wg.x;
  let count = f32(pu(0u) * pu(2u));
  centre = sumX(c, lid) / count;
  let v = sumSquares(c, lid) / count;
  if (lid == 0u) { MEAN[c] = centre; VAR[c] = v; }
}`;

/** One thread per channel: params 0..2 are the geometry, 3 the channel count again (the launch size). */
const DIRECT_STATS_WGSL = () => `
${STATS_BINDINGS}
${LINEAR_GROUP_WGSL}
${directChannelSum("sumX", "X[idx]")}
${directChannelSum("sumSquares", "(X[idx] - centre) * (X[idx] - centre)")}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = linearGroup(wg, n) * ${WG}u + lid;
  if (c >= pu(3u)) { return; }
  let count = f32(pu(0u) * pu(2u));
  centre = sumX(c) / count;
  MEAN[c] = centre;
  VAR[c] = sumSquares(c) / count;
}`;

function geometry(g: BatchNormGeometry): number[] {
  return [g.batch, g.channels, g.spatial];
}

/** Launches a channel-sum kernel: one workgroup per channel, or one thread per channel when direct. */
function launchChannels(
  ctx: GpuContext,
  g: BatchNormGeometry,
  kernels: { key: string; wgsl: () => string; directWgsl: () => string },
  buffers: GPUBuffer[],
): void {
  if (direct(ctx, g)) {
    const groups = Math.ceil(g.channels / WG);
    ctx.rt.launch(`${kernels.key}-direct`, kernels.directWgsl, buffers, [...geometry(g), g.channels], groups);
  } else {
    ctx.rt.launch(kernels.key, kernels.wgsl, buffers, geometry(g), [g.channels, 1, 1]);
  }
}

export function batchNormStats(
  ctx: GpuContext,
  x: Storage,
  g: BatchNormGeometry,
): { mean: Storage; variance: Storage } {
  const mean = out(ctx, x.dtype, g.channels);
  const variance = out(ctx, x.dtype, g.channels);
  launchChannels(ctx, g, { key: "bn-stats", wgsl: STATS_WGSL, directWgsl: DIRECT_STATS_WGSL }, [
    buf(ctx, x),
    buf(ctx, mean),
    buf(ctx, variance),
  ]);
  return { mean, variance };
}

/** Per element: c from the flat index of [N, C, S]; weight and bias flags in params 4, 5 (after n). */
const FORWARD_WGSL = () =>
  elementKernel(
    [
      `read> X: array<f32>`,
      `read> MEAN: array<f32>`,
      `read> INV: array<f32>`,
      `read> WEIGHT: array<f32>`,
      `read> BIAS: array<f32>`,
      `read_write> Y: array<f32>`,
    ],
    `let c = (i / pu(3u)) % pu(2u);
  var scale = INV[c]; if (pu(4u) != 0u) { scale *= WEIGHT[c]; }
  var shift = 0.0; if (pu(5u) != 0u) { shift = BIAS[c]; }
  Y[i] = (X[i] - MEAN[c]) * scale + shift;`,
  );

export function batchNormForward(
  ctx: GpuContext,
  x: Storage,
  mean: Storage,
  invStd: Storage,
  weight: Storage | null,
  bias: Storage | null,
  g: BatchNormGeometry,
): Storage {
  const y = out(ctx, x.dtype, x.size);
  const buffers = [x, mean, invStd, weight ?? mean, bias ?? mean, y].map((s) => buf(ctx, s));
  launchElements(ctx, "bn-forward", FORWARD_WGSL, buffers, x.size, [
    ...geometry(g),
    weight ? 1 : 0,
    bias ? 1 : 0,
  ]);
  return y;
}

const BACKWARD_SUMS_WGSL = () => `
${SUMS_BINDINGS}
${HEADER}
${channelSum("sumGy", "GY[idx]")}
${channelSum("sumGyXhat", "GY[idx] * (X[idx] - m) * inv")}
@compute @workgroup_size(${RWG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wg.x;
  m = MEAN[c]; inv = INV[c];
  let db = sumGy(c, lid);
  let dw = sumGyXhat(c, lid);
  if (lid == 0u) { DB[c] = db; DW[c] = dw; }
}`;

const DIRECT_BACKWARD_SUMS_WGSL = () => `
${SUMS_BINDINGS}
${LINEAR_GROUP_WGSL}
${directChannelSum("sumGy", "GY[idx]")}
${directChannelSum("sumGyXhat", "GY[idx] * (X[idx] - m) * inv")}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = linearGroup(wg, n) * ${WG}u + lid;
  if (c >= pu(3u)) { return; }
  m = MEAN[c]; inv = INV[c];
  DB[c] = sumGy(c);
  DW[c] = sumGyXhat(c);
}`;

const BACKWARD_DX_WGSL = () =>
  elementKernel(
    [
      `read> GY: array<f32>`,
      `read> X: array<f32>`,
      `read> MEAN: array<f32>`,
      `read> INV: array<f32>`,
      `read> WEIGHT: array<f32>`,
      `read> DW: array<f32>`,
      `read> DB: array<f32>`,
      `read_write> DX: array<f32>`,
    ],
    `let c = (i / pu(3u)) % pu(2u);
  var scale = INV[c]; if (pu(4u) != 0u) { scale *= WEIGHT[c]; }
  if (pu(5u) == 0u) { DX[i] = scale * GY[i]; return; }
  let m = f32(pu(1u) * pu(3u));
  DX[i] = scale * (GY[i] - DB[c] / m - (X[i] - MEAN[c]) * INV[c] * (DW[c] / m));`,
  );

export function batchNormBackward(
  ctx: GpuContext,
  gy: Storage,
  x: Storage,
  mean: Storage,
  invStd: Storage,
  weight: Storage | null,
  training: boolean,
  g: BatchNormGeometry,
): { dx: Storage; dWeight: Storage; dBias: Storage } {
  const dWeight = out(ctx, gy.dtype, g.channels);
  const dBias = out(ctx, gy.dtype, g.channels);
  const dx = out(ctx, gy.dtype, gy.size);
  const sums = [gy, x, mean, invStd, dWeight, dBias].map((s) => buf(ctx, s));
  const kernels = {
    key: "bn-backward-sums",
    wgsl: BACKWARD_SUMS_WGSL,
    directWgsl: DIRECT_BACKWARD_SUMS_WGSL,
  };
  launchChannels(ctx, g, kernels, sums);
  const buffers = [gy, x, mean, invStd, weight ?? mean, dWeight, dBias, dx].map((s) => buf(ctx, s));
  launchElements(ctx, "bn-backward-dx", BACKWARD_DX_WGSL, buffers, gy.size, [
    ...geometry(g),
    weight ? 1 : 0,
    training ? 1 : 0,
  ]);
  return { dx, dWeight, dBias };
}
