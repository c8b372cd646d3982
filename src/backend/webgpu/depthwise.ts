// Direct convolution kernels of the webgpu backend, for depthwise convolutions (one input channel per group,
// `multiplier` output channels each: a tiled product would spend 63 of its 64 rows on nothing) and, forward
// and input gradient, for every convolution small enough that gemm.ts would pick its direct product kernel
// (these loop over the taps without the product kernel's index divisions). Forward and input gradient run
// one thread per output or input element over the Cin/groups·kH·kW (or Cout/groups·kH·kW) taps; the
// depthwise weight gradient runs one workgroup per weight element, its threads striding over N·outH·outW
// and summing in workgroup memory.

import type { Conv2dGeometry, Storage } from "../backend.js";
import { LINEAR_GROUP_WGSL } from "./runtime.js";
import { usesDirectProduct } from "./gemm.js";
import { buf, elementKernel, launchElements, out, type GpuContext } from "./context.js";
import { FIELDS, GEOMETRY_PARAM, GEOMETRY_WGSL, geometryParams } from "./conv-geometry.js";

/** Depthwise: every group has a single input channel (and more than one group). */
export function applies(g: Conv2dGeometry): boolean {
  return g.groups > 1 && g.groups === g.inChannels;
}

/** Whether the forward (and, with the roles swapped, the input gradient) runs the direct kernel here. */
export function forwardApplies(ctx: GpuContext, g: Conv2dGeometry): boolean {
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const taps = cinG * g.kernelH * g.kernelW;
  return applies(g) || usesDirectProduct(ctx, coutG, g.outH * g.outW, taps, g.batch * g.groups);
}

export function backwardInputApplies(ctx: GpuContext, g: Conv2dGeometry): boolean {
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const taps = coutG * g.kernelH * g.kernelW;
  return applies(g) || usesDirectProduct(ctx, cinG, g.inH * g.inW, taps, g.batch * g.groups);
}

// Parameter 0 is the element count, 1 to 3 are unused (the geometry starts at GEOMETRY_PARAM as in conv.ts).
const FORWARD_WGSL = () =>
  elementKernel(
    [`read> X: array<f32>`, `read> W: array<f32>`, `read> BIAS: array<f32>`, `read_write> Y: array<f32>`],
    `let ii = i32(i);
  let ow = ii % gOutW(); let oh = (ii / gOutW()) % gOutH(); let co = (ii / gL()) % gOutChannels(); let n = ii / (gL() * gOutChannels());
  let grp = co / gCoutG();
  var acc = 0.0;
  if (pu(${GEOMETRY_PARAM + FIELDS.length}u) != 0u) { acc = BIAS[co]; }
  for (var c = 0; c < gCinG(); c++) {
    let plane = (n * gInChannels() + grp * gCinG() + c) * gInH();
    let taps = (co * gCinG() + c) * gTaps();
    for (var ki = 0; ki < gKernelH(); ki++) {
      let ih = oh * gStrideH() - gPadH() + ki * gDilationH();
      if (ih < 0 || ih >= gInH()) { continue; }
      for (var kj = 0; kj < gKernelW(); kj++) {
        let iw = ow * gStrideW() - gPadW() + kj * gDilationW();
        if (iw < 0 || iw >= gInW()) { continue; }
        acc += W[taps + ki * gKernelW() + kj] * X[(plane + ih) * gInW() + iw];
      }
    }
  }
  Y[ii] = acc;`,
    GEOMETRY_WGSL,
  );

export function forward(
  ctx: GpuContext,
  x: Storage,
  w: Storage,
  bias: Storage | null,
  g: Conv2dGeometry,
): Storage {
  const y = out(ctx, x.dtype, g.batch * g.outChannels * g.outH * g.outW);
  const buffers = [buf(ctx, x), buf(ctx, w), buf(ctx, bias ?? w), buf(ctx, y)];
  launchElements(ctx, "depthwise", FORWARD_WGSL, buffers, y.size, [
    0,
    0,
    0,
    ...geometryParams(g),
    bias ? 1 : 0,
  ]);
  return y;
}

const BACKWARD_INPUT_WGSL = () =>
  elementKernel(
    [`read> GY: array<f32>`, `read> W: array<f32>`, `read_write> DX: array<f32>`],
    `let ii = i32(i);
  let iw = ii % gInW(); let ih = (ii / gInW()) % gInH(); let ci = (ii / (gInH() * gInW())) % gInChannels(); let n = ii / (gInH() * gInW() * gInChannels());
  let grp = ci / gCinG(); let c = ci % gCinG();
  var acc = 0.0;
  for (var m = 0; m < gCoutG(); m++) {
    let co = grp * gCoutG() + m;
    let taps = (co * gCinG() + c) * gTaps();
    for (var ki = 0; ki < gKernelH(); ki++) {
      let th = ih + gPadH() - ki * gDilationH();
      if (th < 0 || th % gStrideH() != 0 || th / gStrideH() >= gOutH()) { continue; }
      for (var kj = 0; kj < gKernelW(); kj++) {
        let tw = iw + gPadW() - kj * gDilationW();
        if (tw < 0 || tw % gStrideW() != 0 || tw / gStrideW() >= gOutW()) { continue; }
        acc += W[taps + ki * gKernelW() + kj] * GY[((n * gOutChannels() + co) * gOutH() + th / gStrideH()) * gOutW() + tw / gStrideW()];
      }
    }
  }
  DX[ii] = acc;`,
    GEOMETRY_WGSL,
  );

export function backwardInput(ctx: GpuContext, gy: Storage, w: Storage, g: Conv2dGeometry): Storage {
  const dx = out(ctx, gy.dtype, g.batch * g.inChannels * g.inH * g.inW);
  launchElements(
    ctx,
    "depthwise-dx",
    BACKWARD_INPUT_WGSL,
    [buf(ctx, gy), buf(ctx, w), buf(ctx, dx)],
    dx.size,
    [0, 0, 0, ...geometryParams(g)],
  );
  return dx;
}

const RWG = 128;

const BACKWARD_WEIGHT_WGSL = () => `
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> GY: array<f32>;
@group(0) @binding(3) var<storage, read_write> DW: array<f32>;
var<workgroup> part: array<f32, ${RWG}>;
${LINEAR_GROUP_WGSL}
${GEOMETRY_WGSL}
@compute @workgroup_size(${RWG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = i32(linearGroup(wg, count));
  if (e >= i32(pu(0u))) { return; }
  let co = e / gTaps(); let ki = (e % gTaps()) / gKernelW(); let kj = e % gKernelW();
  let c = co / gCoutG();
  let total = gBatch() * gL();
  var acc = 0.0;
  for (var t = i32(lid); t < total; t += ${RWG}) {
    let n = t / gL(); let l = t % gL();
    let ih = (l / gOutW()) * gStrideH() - gPadH() + ki * gDilationH();
    let iw = (l % gOutW()) * gStrideW() - gPadW() + kj * gDilationW();
    if (ih < 0 || ih >= gInH() || iw < 0 || iw >= gInW()) { continue; }
    acc += GY[(n * gOutChannels() + co) * gL() + l] * X[((n * gInChannels() + c) * gInH() + ih) * gInW() + iw];
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${RWG / 2}u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { DW[e] = part[0]; }
}`;

export function backwardWeight(ctx: GpuContext, x: Storage, gy: Storage, g: Conv2dGeometry): Storage {
  const dw = out(ctx, x.dtype, g.outChannels * g.kernelH * g.kernelW);
  ctx.rt.launch(
    "depthwise-dw",
    BACKWARD_WEIGHT_WGSL,
    [buf(ctx, x), buf(ctx, gy), buf(ctx, dw)],
    [dw.size, 0, 0, 0, ...geometryParams(g)],
    dw.size,
  );
  return dw;
}
